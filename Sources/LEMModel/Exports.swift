// The model library stands on Runtime (products, buffers, parameters, threads, the generator):
// whoever imports LEMModel sees it too.
@_exported import Runtime
