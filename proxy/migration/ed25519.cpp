#include "proxy/migration/ed25519.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace djproxy::migration {
namespace {

// Ed25519 keys are tiny; anything bigger is not one, and reading it whole
// would let a wrong path (a log file) eat memory.
constexpr std::size_t kMaxPemBytes = 16 * 1024;

std::shared_ptr<evp_pkey_st> own(EVP_PKEY* key) {
  return std::shared_ptr<evp_pkey_st>(key, EVP_PKEY_free);
}

std::unique_ptr<BIO, decltype(&BIO_free)> memory_bio(std::string_view text) {
  if (text.size() > std::size_t(std::numeric_limits<int>::max())) throw std::invalid_argument("key text too long");
  return {BIO_new_mem_buf(text.data(), int(text.size())), BIO_free};
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, std::size_t(n)) : std::string();
}

void require_ed25519(EVP_PKEY* key, const char* what) {
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw std::invalid_argument(std::string("djproxy: the ") + what + " is a PEM key, but not an Ed25519 one");
  }
}

}  // namespace

Ed25519Key Ed25519Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) throw std::runtime_error("djproxy: OpenSSL could not generate an Ed25519 key");
  Ed25519Key k;
  k.key_ = own(key);
  k.has_private_ = true;
  return k;
}

Ed25519Key Ed25519Key::from_private_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  // A passphrase prompt would hang a sidecar; an empty callback refuses encrypted keys.
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, [](char*, int, int, void*) { return 0; }, nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    throw std::invalid_argument(
        "djproxy: the private key is not an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)");
  }
  require_ed25519(key, "private key");
  Ed25519Key k;
  k.key_ = own(key);
  k.has_private_ = true;
  return k;
}

Ed25519Key Ed25519Key::from_public_pem(std::string_view pem) {
  auto bio = memory_bio(pem);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  ERR_clear_error();
  if (key == nullptr) {
    throw std::invalid_argument("djproxy: the public key is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  require_ed25519(key, "public key");
  Ed25519Key k;
  k.key_ = own(key);
  return k;
}

std::string Ed25519Key::private_pem() const {
  if (!has_private_) throw std::logic_error("djproxy: this Ed25519 key has no private half");
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw std::runtime_error("djproxy: OpenSSL could not write the private key");
  }
  return bio_text(bio.get());
}

std::string Ed25519Key::public_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    throw std::runtime_error("djproxy: OpenSSL could not write the public key");
  }
  return bio_text(bio.get());
}

std::string Ed25519Key::sign(std::string_view data) const {
  if (!has_private_) throw std::logic_error("djproxy: signing needs the private key; this is a public key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signature(kEd25519SignatureBytes, '\0');
  std::size_t length = signature.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1 ||
      length != kEd25519SignatureBytes) {
    throw std::runtime_error("djproxy: Ed25519 signing failed in OpenSSL");
  }
  return signature;
}

bool Ed25519Key::verify(std::string_view data, std::string_view signature) const {
  if (signature.size() != kEd25519SignatureBytes) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    throw std::runtime_error("djproxy: Ed25519 verification could not start in OpenSSL");
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(data.data()), data.size());
  ERR_clear_error();
  return rc == 1;
}

std::string read_key_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("djproxy: cannot read the key file " + path + ": " + std::strerror(errno));
  std::string text(kMaxPemBytes + 1, '\0');
  in.read(text.data(), std::streamsize(text.size()));
  text.resize(std::size_t(in.gcount()));
  if (text.size() > kMaxPemBytes) throw std::invalid_argument("djproxy: the key file " + path + " is too large to be a key");
  return text;
}

}  // namespace djproxy::migration
