// OpenBLAS's CBLAS interface (Debian: libopenblas-dev; cblas.h is an alternatives link on the
// default include path). openblas_get_corename / openblas_set_num_threads come with it.
#include <cblas.h>
