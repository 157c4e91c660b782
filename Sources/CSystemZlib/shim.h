// zlib (Debian: zlib1g-dev): its crc32 checksums checkpoints (Sources/LEMModel/Checkpoints/Checksum.swift) and its inflate reads gzip files (MNIST). Not named CZlib: ZIPFoundation has a module CZLib, and module names clash without regard to case.
#include <zlib.h>
