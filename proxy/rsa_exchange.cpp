#include "proxy/rsa_exchange.hpp"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>
#include <vector>

namespace djproxy::proxy {

RsaExchange::RsaExchange() {
  key_ = EVP_RSA_gen(2048);
  if (key_ == nullptr) throw std::runtime_error("cannot generate the RSA key for caching_sha2_password");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key_);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  public_pem_.assign(data, static_cast<std::size_t>(n));
  BIO_free(bio);
}

RsaExchange::~RsaExchange() { EVP_PKEY_free(key_); }

std::optional<std::string> RsaExchange::decrypt_password(std::string_view encrypted, std::string_view scramble) const {
  if (scramble.empty()) return std::nullopt;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key_, nullptr);
  if (ctx == nullptr) return std::nullopt;
  std::vector<unsigned char> plain(static_cast<std::size_t>(EVP_PKEY_get_size(key_)));
  std::size_t length = plain.size();
  const bool ok = EVP_PKEY_decrypt_init(ctx) > 0 && EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
                  EVP_PKEY_decrypt(ctx, plain.data(), &length, reinterpret_cast<const unsigned char*>(encrypted.data()),
                                   encrypted.size()) > 0;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) return std::nullopt;
  std::string password(length, '\0');
  for (std::size_t i = 0; i < length; ++i) {
    password[i] = static_cast<char>(plain[i] ^ static_cast<unsigned char>(scramble[i % scramble.size()]));
  }
  OPENSSL_cleanse(plain.data(), plain.size());
  // The client encrypted the password with its NUL; anything else is not a password.
  if (password.empty() || password.back() != '\0') return std::nullopt;
  return password;
}

}  // namespace djproxy::proxy
