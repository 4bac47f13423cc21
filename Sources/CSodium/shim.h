// Debian's libsodium (libsodium-dev): HMAC-SHA256 for signing Jupyter messages.
#include <sodium.h>
