#include "proxy/protocol/constants.hpp"

#include "policy/protocol_command.hpp"

namespace djproxy::protocol {

// One name table, the policy's: the audit log and the proxy's messages say the same names.
const char* command_name(std::uint8_t command) { return policy::command_name(command); }

}  // namespace djproxy::protocol
