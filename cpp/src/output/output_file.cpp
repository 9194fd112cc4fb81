#include "output/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

namespace sailir {

namespace {

namespace fs = std::filesystem;

std::string reason(int err) { return std::strerror(err); }

// Writes all of text to fd; returns 0 or the errno of the first failure.
int write_all(int fd, const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

// Creates a new file and writes text to it; returns 0 or an errno.
int write_new_file(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  int err = write_all(fd, text);
  if (!err && ::fsync(fd) != 0 && errno != EINVAL) err = errno;
  if (::close(fd) != 0 && !err) err = errno;
  if (err) ::unlink(path.c_str());
  return err;
}

// Keeps a result that could not be written: beside the target, else in the temporary directory.
// Returns where, or "" when neither place took it.
std::string rescue(const std::string& target, const std::string& text) {
  const std::string name = "sailir-result." + std::to_string(::getpid()) + ".txt";
  std::vector<std::string> places;
  if (!target.empty()) places.push_back(target + "." + std::to_string(::getpid()) + ".rescued");
  const char* tmp = std::getenv("TMPDIR");
  places.push_back((fs::path(tmp && *tmp ? tmp : "/tmp") / name).string());
  for (const std::string& p : places)
    if (write_new_file(p, text) == 0) return p;
  return "";
}

[[noreturn]] void fail_write(const std::string& shown, const std::string& target, const std::string& text, int err) {
  const std::string kept = rescue(target, text);
  throw OutputError("cannot write " + shown + ": " + reason(err) +
                    (kept.empty() ? "; the result could not be kept anywhere" : "; the result is kept in " + kept));
}

}  // namespace

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) return;
  target_ = path_;
  struct stat st{};
  if (::stat(path_.c_str(), &st) == 0) {  // follows symlinks
    if (S_ISDIR(st.st_mode)) throw OutputError("cannot write output file " + path_ + ": it is a directory");
    if (!S_ISREG(st.st_mode)) {  // FIFO, device, /dev/stdout: written in place
      mode_ = Mode::direct;
      return;
    }
  }
  mode_ = Mode::replace;
  std::error_code ec;
  for (int hops = 0; fs::is_symlink(fs::symlink_status(target_, ec)); ++hops) {  // replace what it names
    fs::path next = fs::read_symlink(target_, ec);
    if (ec || hops == 40) throw OutputError("cannot write output file " + path_ + ": unresolvable symlink");
    target_ = (next.is_absolute() ? next : fs::path(target_).parent_path() / next).string();
  }
  fs::path dir = fs::path(target_).parent_path();
  if (dir.empty()) dir = ".";
  if (!fs::is_directory(dir, ec))
    throw OutputError("cannot write output file " + path_ + ": directory " + dir.string() + " does not exist");
  if (::access(dir.c_str(), W_OK) != 0)
    throw OutputError("cannot write output file " + path_ + ": directory " + dir.string() + " is not writable");
}

void OutputFile::write(const std::string& text) const {
  if (mode_ == Mode::stdout_stream) {
    std::fflush(stdout);
    int err = write_all(STDOUT_FILENO, text);
    if (err) fail_write("standard output", "", text, err);
    return;
  }
  if (mode_ == Mode::direct) {
    int fd = ::open(target_.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) fail_write("output file " + path_, "", text, errno);
    int err = write_all(fd, text);
    if (::close(fd) != 0 && !err) err = errno;
    if (err) fail_write("output file " + path_, "", text, err);
    return;
  }
  const std::string tmp = target_ + ".tmp." + std::to_string(::getpid());
  if (int err = write_new_file(tmp, text)) fail_write("output file " + path_, target_, text, err);
  if (std::rename(tmp.c_str(), target_.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    fail_write("output file " + path_, target_, text, err);
  }
}

}  // namespace sailir
