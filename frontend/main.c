/* Placeholder entry point; the real CLI lives in frontend/ (trapeze run). */
#include <stdio.h>
int main(void)
{
    puts("trapeze: CLI not built yet");
    return 0;
}
