// libsamplerate (Secret Rabbit Code; Debian: libsamplerate0-dev): band-limited resampling.
#include <samplerate.h>
