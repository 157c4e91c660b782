// oneDNN (Debian's libdnnl-dev, 2.6): the matmul primitive with weights reordered once into its
// own blocked layout, for the per-step recurrent products (Runtime/StepProduct.swift).
#include <oneapi/dnnl/dnnl.h>
