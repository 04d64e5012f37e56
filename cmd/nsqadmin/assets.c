/*
 * A stand-in page: the one asset, index.html, until the web page's
 * files are compiled in here.
 */
#include <string.h>

#include "assets.h"

static const unsigned char index_html[] =
    "<!DOCTYPE html>\n<html><head><title>nsqadmin</title></head>\n"
    "<body><h1>nsqadmin</h1></body></html>\n";

static const struct admin_asset assets[] = {
	{ "index.html", "text/html; charset=utf-8", index_html,
	  sizeof(index_html) - 1 },
};

const struct admin_asset *
admin_asset_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].path, path) == 0)
			return &assets[i];
	return NULL;
}
