// zlib (Debian: zlib1g-dev): its crc32 checksums checkpoints (Sources/LEMModel/Checkpoints/Checksum.swift).
#include <zlib.h>
