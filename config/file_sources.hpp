#pragma once
// Reading the two config files into (key, raw value, line) triples. Typing happens
// later, in one place for all layers.

#include <filesystem>
#include <string>
#include <vector>

#include "config/value.hpp"

namespace djproxy::config {

struct FileEntry {
  std::string key;  // as written: a known key or alias key, dotted
  RawValue value;
  int line = 0;
};

struct FileRead {
  std::vector<FileEntry> entries;
  std::vector<std::string> errors;  // each starts with "<name>:<line>:" or "<name>:"
};

// datajoint.json belongs to DataJoint: keys djproxy does not know are ignored, and
// null counts as unset. Nested objects and flat dotted keys both work.
FileRead read_datajoint_json(const std::filesystem::path& file, const std::string& name);

// djproxy.toml is ours: an unknown key is an error, so a typo cannot pass silently.
FileRead read_toml(const std::filesystem::path& file, const std::string& name);

// Whole file as text, or nullopt with `error` set.
std::optional<std::string> read_text_file(const std::filesystem::path& file, std::string& error);

}  // namespace djproxy::config
