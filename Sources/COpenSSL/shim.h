// The system OpenSSL (Debian's libssl-dev), used only to sign receipts as CMS (PKCS#7): no stable
// Swift package signs CMS. swift-nio-ssl and swift-crypto carry their own prefixed BoringSSL, so the
// two never clash.
#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
