// The system zlib (zlib1g-dev), used to check that gzip uploads are complete: compress-nio, which
// handles the streaming transforms, does not report whether a stream reached its end.
#include <zlib.h>
