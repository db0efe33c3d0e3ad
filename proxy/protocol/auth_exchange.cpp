#include "proxy/protocol/auth_exchange.hpp"

#include "proxy/protocol/constants.hpp"

namespace djproxy::protocol {

AuthReply classify_auth_reply(Bytes payload) {
  if (payload.empty()) return AuthReply::kUnexpected;
  switch (payload[0]) {
    case auth::kOk:
      return AuthReply::kOk;
    case auth::kErr:
      return AuthReply::kErr;
    case auth::kSwitchRequest:
      return AuthReply::kSwitchRequest;
    case auth::kMoreData:
      if (payload.size() == 2 && payload[1] == auth::kFastAuthSuccess) return AuthReply::kFastAuthSuccess;
      if (payload.size() == 2 && payload[1] == auth::kPerformFullAuthentication) {
        return AuthReply::kPerformFullAuthentication;
      }
      return AuthReply::kMoreData;
    default:
      return AuthReply::kUnexpected;
  }
}

std::optional<std::string> switch_request_nonce(Bytes payload) {
  if (payload.empty() || payload[0] != auth::kSwitchRequest) return std::nullopt;
  Reader r(payload.subspan(1));
  r.nul_terminated();
  std::string nonce(as_chars(r.rest()));
  if (!nonce.empty() && nonce.back() == '\0') nonce.pop_back();
  if (!r.ok() || nonce.empty()) return std::nullopt;
  return nonce;
}

bool is_public_key_request(Bytes payload) { return payload.size() == 1 && payload[0] == auth::kRequestPublicKey; }

}  // namespace djproxy::protocol
