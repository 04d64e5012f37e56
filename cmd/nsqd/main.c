/* nsqd: placeholder until the broker lands. */
#include <stdio.h>

int
main(void)
{
	fprintf(stderr, "nsqd: not yet\n");
	return 1;
}
