#include <stdio.h>
#include "sample.h"

#define BUFFER_SIZE 256

/* Add two integers. */
static int add(int a, int b) {
    return a + b;
}

struct point {
    int x, y;
};

int prototype(int value);
