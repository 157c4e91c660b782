// OpenSSL's libcrypto (Debian's libssl-dev; pkg-config "libcrypto"): SHA-1 through the EVP
// digest interface, for TensorFlow's speech_commands split of folders without list files.
#include <openssl/evp.h>
