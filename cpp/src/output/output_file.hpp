// Where a result goes: standard output or a file named by the user, checked before any work
// starts, so that a reduction is never computed only to be thrown away at the end.
//
// A regular file (new or existing) is written beside the target and renamed over it, so an
// interrupted run never leaves half a file; a symlink is written through to its target. A FIFO, a
// character device or /dev/stdout is written directly: renaming over it would replace the node.
// A failed write (a full disk) is an error with its reason, and the text is kept in a rescue file
// named in the message.
#pragma once

#include <stdexcept>
#include <string>

namespace sailir {

struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class OutputFile {
 public:
  // `path` empty: standard output. Throws OutputError when the place cannot take the result
  // (a missing or unwritable directory, a directory given as the file).
  explicit OutputFile(std::string path);

  // Writes the whole text. Throws OutputError naming the reason and the rescue file.
  void write(const std::string& text) const;

  const std::string& path() const { return path_; }

 private:
  enum class Mode { stdout_stream, replace, direct };
  std::string path_;    // as given
  std::string target_;  // symlinks resolved
  Mode mode_ = Mode::stdout_stream;
};

}  // namespace sailir
