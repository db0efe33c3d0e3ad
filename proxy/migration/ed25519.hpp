#pragma once
// Ed25519 keys for migration tokens. The signing key stays with the DBA or the
// migration Job's issuer; sidecars hold only the public key, so a shell in a
// worker pod can check tokens but never mint one.
#include <memory>
#include <string>
#include <string_view>

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace djproxy::migration {

class Ed25519Key {
 public:
  // A fresh key pair from OpenSSL's generator. Throws std::runtime_error.
  static Ed25519Key generate();
  // PEM text ("-----BEGIN PRIVATE KEY-----" / "-----BEGIN PUBLIC KEY-----").
  // Throw std::invalid_argument naming what is wrong when the text is not an
  // Ed25519 key of that kind.
  static Ed25519Key from_private_pem(std::string_view pem);
  static Ed25519Key from_public_pem(std::string_view pem);

  bool has_private() const { return has_private_; }
  std::string private_pem() const;  // throws std::logic_error without the private half
  std::string public_pem() const;
  // 64-byte signature; throws std::logic_error without the private half.
  std::string sign(std::string_view data) const;
  bool verify(std::string_view data, std::string_view signature) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
  bool has_private_ = false;
};

inline constexpr std::size_t kEd25519SignatureBytes = 64;

// Reads a PEM file; throws std::invalid_argument with the path and the reason.
std::string read_key_file(const std::string& path);

}  // namespace djproxy::migration
