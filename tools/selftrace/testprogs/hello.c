// hello: the smallest traced program; also built -static as static-hello,
// which the launcher refuses and which a traced program can still exec.
#include <stdio.h>

int main(void)
{
	puts("hello from a selftrace test program");
	return 0;
}
