#include "proxy/rsa_exchange.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <string>
#include <vector>

namespace djproxy::proxy {
namespace {

// What a MySQL client does on a plaintext connection: XOR the password (with its NUL)
// with the scramble, then RSA-OAEP encrypt it with the public key it was sent.
std::string client_encrypt(const std::string& pem, std::string password, const std::string& scramble) {
  password.push_back('\0');
  for (std::size_t i = 0; i < password.size(); ++i) password[i] ^= scramble[i % scramble.size()];
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EXPECT_NE(key, nullptr);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(key, nullptr);
  EVP_PKEY_encrypt_init(ctx);
  EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
  std::size_t n = 0;
  EVP_PKEY_encrypt(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(password.data()), password.size());
  std::string out(n, '\0');
  EVP_PKEY_encrypt(ctx, reinterpret_cast<unsigned char*>(out.data()), &n,
                   reinterpret_cast<const unsigned char*>(password.data()), password.size());
  out.resize(n);
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  return out;
}

TEST(RsaExchange, DecryptsWhatAClientEncrypts) {
  RsaExchange rsa;
  ASSERT_NE(rsa.public_key_pem().find("BEGIN PUBLIC KEY"), std::string::npos);
  const std::string scramble = "0123456789abcdefghij";
  for (const std::string& password : std::vector<std::string>{"djpass", "", std::string(40, 'x'), "p\xc3\xa4ss"}) {
    const auto encrypted = client_encrypt(rsa.public_key_pem(), password, scramble);
    const auto decrypted = rsa.decrypt_password(encrypted, scramble);
    ASSERT_TRUE(decrypted) << password;
    EXPECT_EQ(*decrypted, password + '\0');
  }
}

TEST(RsaExchange, RefusesWrongScrambleAndGarbage) {
  RsaExchange rsa;
  const auto encrypted = client_encrypt(rsa.public_key_pem(), "djpass", "0123456789abcdefghij");
  // Another scramble turns the NUL into something else: not a password.
  EXPECT_FALSE(rsa.decrypt_password(encrypted, "jihgfedcba9876543210"));
  EXPECT_FALSE(rsa.decrypt_password("not rsa at all", "0123456789abcdefghij"));
  EXPECT_FALSE(rsa.decrypt_password(encrypted, ""));
  RsaExchange other;
  EXPECT_FALSE(other.decrypt_password(encrypted, "0123456789abcdefghij"));  // another proxy's key
}

}  // namespace
}  // namespace djproxy::proxy
