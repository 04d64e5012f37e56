/*
 * The web page's files, compiled into the binary (assets.c).  path is
 * the URL path below --base-path without its leading slash:
 * "index.html" for the page itself, "static/<name>" for the rest.
 * content_type is the Content-Type header to send.
 */
#ifndef NSQADMIN_ASSETS_H
#define NSQADMIN_ASSETS_H

#include <stddef.h>

struct admin_asset {
	const char		*path;
	const char		*content_type;
	const unsigned char	*data;
	size_t			 len;
};

/* The asset at path, or NULL. */
const struct admin_asset *admin_asset_find(const char *path);

#endif
