#pragma once
// caching_sha2_password's full authentication when the client leg is plaintext and
// the backend leg is TLS. Such a client asks for a public key and sends its password
// RSA-encrypted; the server, on TLS, expects it in the clear. The proxy answers the key
// request with its own key, decrypts, and sends the password inside the backend's TLS,
// so the password never crosses either leg in the clear.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/evp.h>

namespace djproxy::proxy {

class RsaExchange {
 public:
  // Generates a 2048-bit key; throws std::runtime_error if OpenSSL cannot.
  RsaExchange();
  ~RsaExchange();
  RsaExchange(const RsaExchange&) = delete;
  RsaExchange& operator=(const RsaExchange&) = delete;

  // The PEM text sent after the 0x01 marker in answer to the client's request (0x02).
  const std::string& public_key_pem() const { return public_pem_; }

  // The client sends RSA-OAEP(password NUL XOR scramble, repeated). Returns the password
  // with its terminating NUL, as the server expects it over TLS; nullopt if the data
  // does not decrypt.
  std::optional<std::string> decrypt_password(std::string_view encrypted, std::string_view scramble) const;

 private:
  EVP_PKEY* key_ = nullptr;
  std::string public_pem_;
};

}  // namespace djproxy::proxy
