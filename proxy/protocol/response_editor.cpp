#include "proxy/protocol/response_editor.hpp"

namespace djproxy::protocol {

void ResponseEditor::start(Command command, bool forward) {
  tracker_.start(command);
  forward_ = forward;
  ended_ = Ended::kNo;
  failed_ = false;
  rows_ = 0;
  first_row_.clear();
  first_row_left_ = 0;
  left_ = 0;
}

void ResponseEditor::infile_sent() {
  tracker_.infile_sent();
  ended_ = Ended::kNo;
}

}  // namespace djproxy::protocol
