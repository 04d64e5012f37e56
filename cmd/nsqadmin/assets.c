/*
 * The web page's files, compiled in: the Makefile runs
 * scripts/embed-assets.sh over cmd/nsqadmin/ui/ and writes the arrays and
 * the table "assets" into $(O)/gen/nsqadmin_assets.inc, included here.
 * So an installed nsqadmin serves its page with no file beside it and
 * fetches nothing from elsewhere.
 */
#include <string.h>

#include "assets.h"

#include "nsqadmin_assets.inc"

const struct admin_asset *
admin_asset_find(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(assets) / sizeof(assets[0]); i++)
		if (strcmp(assets[i].path, path) == 0)
			return &assets[i];
	return NULL;
}
