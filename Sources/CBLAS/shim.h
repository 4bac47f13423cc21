// OpenBLAS's cblas.h, plus its thread controls (declared in the same header).
#include <cblas.h>
