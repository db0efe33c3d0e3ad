#include "proxy/tls.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <string>

namespace djproxy::proxy {
namespace {

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// Like MySQL 8 does when no certificate is configured: a key and a self-signed
// certificate made at start, so "preferred" TLS works out of the box. Clients that
// verify the server must be given a real certificate instead.
void use_self_signed(asio::ssl::context& context) {
  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw std::runtime_error("client TLS: cannot generate a key");
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("djproxy_Auto_Generated_Server_Certificate"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) throw std::runtime_error("client TLS: cannot sign");

  BioPtr cert_pem(BIO_new(BIO_s_mem()));
  BioPtr key_pem(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(cert_pem.get(), cert.get());
  PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  const std::string cert_text = bio_string(cert_pem.get());
  const std::string key_text = bio_string(key_pem.get());
  context.use_certificate_chain(asio::buffer(cert_text));
  context.use_private_key(asio::buffer(key_text), asio::ssl::context::pem);
}

void load(const char* what, const std::string& path, auto&& step) {
  ErrorCode ec;
  step(ec);
  if (ec) throw std::runtime_error(std::string(what) + " " + path + ": " + ec.message());
}

}  // namespace

TlsContexts make_tls_contexts(const ServerOptions& options) {
  if (options.client_tls == ClientTlsMode::kRequired && options.backend_tls == BackendTlsMode::kOff) {
    // TLS is offered to clients only when the backend leg has it too (a password sent
    // in the clear inside TLS must not cross a plaintext leg): every login would fail.
    throw std::runtime_error("client_tls.mode=required needs TLS on the backend leg, but backend_tls.mode=off");
  }
  TlsContexts contexts;
  constexpr auto kOptions = asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                            asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                            asio::ssl::context::no_tlsv1_1;

  if (options.client_tls != ClientTlsMode::kOff) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    context->set_options(kOptions);
    if (options.client_tls_cert.empty() != options.client_tls_key.empty()) {
      throw std::runtime_error("client TLS: a certificate needs its key and a key its certificate");
    }
    if (options.client_tls_cert.empty()) {
      use_self_signed(*context);
    } else {
      load("client TLS certificate", options.client_tls_cert,
           [&](ErrorCode& ec) { context->use_certificate_chain_file(options.client_tls_cert, ec); });
      load("client TLS key", options.client_tls_key,
           [&](ErrorCode& ec) { context->use_private_key_file(options.client_tls_key, asio::ssl::context::pem, ec); });
    }
    contexts.client_leg = std::move(context);
  }

  if (options.backend_tls != BackendTlsMode::kOff) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    context->set_options(kOptions);
    const bool verify =
        options.backend_tls == BackendTlsMode::kVerifyCa || options.backend_tls == BackendTlsMode::kVerifyIdentity;
    if (verify) {
      context->set_verify_mode(asio::ssl::verify_peer);
      if (options.backend_tls_ca.empty()) {
        load("system CA store", "", [&](ErrorCode& ec) { context->set_default_verify_paths(ec); });
      } else {
        load("backend TLS CA", options.backend_tls_ca,
             [&](ErrorCode& ec) { context->load_verify_file(options.backend_tls_ca, ec); });
      }
    } else {
      context->set_verify_mode(asio::ssl::verify_none);
    }
    if (!options.backend_tls_cert.empty()) {
      load("backend TLS certificate", options.backend_tls_cert,
           [&](ErrorCode& ec) { context->use_certificate_chain_file(options.backend_tls_cert, ec); });
      load("backend TLS key", options.backend_tls_key, [&](ErrorCode& ec) {
        context->use_private_key_file(options.backend_tls_key, asio::ssl::context::pem, ec);
      });
    }
    contexts.backend_leg = std::move(context);
  }
  return contexts;
}

}  // namespace djproxy::proxy
