#!/bin/sh
# Writes, on stdout, C definitions of the given files as byte arrays and
# one table of them, for cmd/nsqadmin/assets.c to include: the web page
# compiled into nsqadmin, so an installed binary needs no file beside it.
# Only od(1) and sed(1) (coreutils, a minimal Debian has them), no xxd.
#
#   scripts/embed-assets.sh cmd/nsqadmin/ui/index.html cmd/nsqadmin/ui/app.js ...
#
# index.html is the page itself ("index.html"); every other file is
# served as "static/<its name>".  The Content-Type follows the suffix.
set -eu
n=0
table=
for f; do
	name=$(basename "$f")
	case $name in
	*.html)	ct="text/html; charset=utf-8" ;;
	*.css)	ct="text/css; charset=utf-8" ;;
	*.js)	ct="text/javascript; charset=utf-8" ;;
	*.svg)	ct="image/svg+xml" ;;
	*.png)	ct="image/png" ;;
	*.json)	ct="application/json" ;;
	*)	echo "embed-assets.sh: $f: no Content-Type for this suffix" >&2
		exit 1 ;;
	esac
	case $name in
	index.html)	path=index.html ;;
	*)		path=static/$name ;;
	esac
	echo "/* $f */"
	echo "static const unsigned char asset_$n[] = {"
	od -An -v -tu1 "$f" | sed -e 's/^ *//' -e 's/  */,/g' -e 's/$/,/' \
	    -e '/^,$/d'
	echo "};"
	table="$table	{ \"$path\", \"$ct\", asset_$n, sizeof(asset_$n) },
"
	n=$((n + 1))
done
echo "static const struct admin_asset assets[] = {"
printf '%s' "$table"
echo "};"
