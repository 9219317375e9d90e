// SPDX-License-Identifier: MIT
#include "chainrule/exporters/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <random>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace chainrule::exporters {
namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

// Quoted the way the user typed it, so the message matches their command line.
std::string quoted(const fs::path& p) {
  return fmt::format("'{}'", p.string());
}

fs::path directory_of(const fs::path& destination) {
  fs::path parent = destination.parent_path();
  return parent.empty() ? fs::path(".") : parent;
}

// The name only has to be unlikely to collide; O_EXCL makes a collision harmless. It never
// reaches the output, so it does not affect determinism.
std::string random_suffix() {
  static thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

void write_all(int fd, std::string_view contents, const fs::path& temporary) {
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw output_error(fmt::format("cannot write {}: {}", quoted(temporary), errno_text(errno)));
    }
    done += static_cast<std::size_t>(n);
  }
}

// Creates a new temporary file beside `destination`, writes `contents` and closes it. The mode
// is 0666 filtered by the umask (as for any new file), or the existing destination's mode so
// that replacing a file keeps its permissions.
fs::path create_temporary(const fs::path& destination, std::string_view contents) {
  const fs::path directory = directory_of(destination);
  const std::string base = destination.filename().string();
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path temporary = directory / fmt::format(".{}.{}.tmp", base, random_suffix());
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      throw output_error(fmt::format("cannot write {}: cannot create a file in directory {}: {}",
                                     quoted(destination), quoted(directory), errno_text(errno)));
    }
    try {
      struct stat existing {};
      if (::stat(destination.c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
        ::fchmod(fd, existing.st_mode & 07777);
      }
      write_all(fd, contents, temporary);
      if (::fsync(fd) != 0 && errno != EINVAL) {
        throw output_error(
            fmt::format("cannot write {}: {}", quoted(destination), errno_text(errno)));
      }
    } catch (...) {
      ::close(fd);
      ::unlink(temporary.c_str());
      throw;
    }
    if (::close(fd) != 0) {
      const int error = errno;
      ::unlink(temporary.c_str());
      throw output_error(
          fmt::format("cannot write {}: {}", quoted(destination), errno_text(error)));
    }
    return temporary;
  }
  throw output_error(fmt::format("cannot write {}: no free temporary file name in {}",
                                 quoted(destination), quoted(directory)));
}

}  // namespace

bool same_file(const fs::path& a, const fs::path& b) {
  struct stat sa {};
  struct stat sb {};
  if (::stat(a.c_str(), &sa) != 0 || ::stat(b.c_str(), &sb) != 0) return false;
  return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

output_set::output_set(std::vector<fs::path> inputs) : inputs_(std::move(inputs)) {}

output_set::~output_set() {
  discard();
}

output_set::output_set(output_set&& other) noexcept
    : inputs_(std::move(other.inputs_)), staged_(std::exchange(other.staged_, {})) {}

output_set& output_set::operator=(output_set&& other) noexcept {
  if (this != &other) {
    discard();
    inputs_ = std::move(other.inputs_);
    staged_ = std::exchange(other.staged_, {});
  }
  return *this;
}

void output_set::check(const fs::path& destination) const {
  if (destination.empty()) throw output_error("an output file name is empty");
  for (const fs::path& input : inputs_) {
    if (same_file(destination, input)) {
      throw output_error(fmt::format(
          "refusing to write {}: it is the input file {}; choose a different output name",
          quoted(destination), quoted(input)));
    }
  }
  std::error_code error;
  if (fs::is_directory(destination, error)) {
    throw output_error(
        fmt::format("cannot write {}: it is a directory; give a file name", quoted(destination)));
  }
  const fs::path directory = directory_of(destination);
  if (!fs::exists(directory, error)) {
    throw output_error(fmt::format("cannot write {}: directory {} does not exist",
                                   quoted(destination), quoted(directory)));
  }
  if (!fs::is_directory(directory, error)) {
    throw output_error(fmt::format("cannot write {}: {} is not a directory", quoted(destination),
                                   quoted(directory)));
  }
  const fs::path absolute = fs::weakly_canonical(fs::absolute(destination, error), error);
  for (const staged& s : staged_) {
    const fs::path other = fs::weakly_canonical(fs::absolute(s.destination, error), error);
    if (other == absolute || same_file(s.destination, destination)) {
      throw output_error(fmt::format("{} is requested as two different outputs ({} and {})",
                                     quoted(destination), quoted(s.destination),
                                     quoted(destination)));
    }
  }
}

void output_set::stage(const fs::path& destination, std::string_view contents) {
  check(destination);
  fs::path temporary = create_temporary(destination, contents);
  staged_.push_back({destination, std::move(temporary)});
}

fs::path output_set::stage_path(const fs::path& destination) {
  check(destination);
  fs::path temporary = create_temporary(destination, {});
  staged_.push_back({destination, temporary});
  return temporary;
}

void output_set::commit() {
  for (std::size_t i = 0; i < staged_.size(); ++i) {
    if (::rename(staged_[i].temporary.c_str(), staged_[i].destination.c_str()) != 0) {
      const int error = errno;
      const fs::path failed = staged_[i].destination;
      // The first i are in place already; discard() removes the temporaries of the rest.
      staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(i));
      discard();
      throw output_error(fmt::format("cannot write {}: {}", quoted(failed), errno_text(error)));
    }
  }
  staged_.clear();
}

std::vector<fs::path> output_set::destinations() const {
  std::vector<fs::path> result;
  result.reserve(staged_.size());
  for (const staged& s : staged_)
    result.push_back(s.destination);
  return result;
}

void output_set::discard() noexcept {
  for (const staged& s : staged_)
    ::unlink(s.temporary.c_str());
  staged_.clear();
}

void write_file_atomically(const fs::path& destination, std::string_view contents,
                           std::vector<fs::path> inputs) {
  output_set out(std::move(inputs));
  out.stage(destination, contents);
  out.commit();
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw output_error(fmt::format("cannot read {}: {}", quoted(path), errno_text(errno)));
  }
  std::string contents{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) throw output_error(fmt::format("cannot read {}", quoted(path)));
  return contents;
}

}  // namespace chainrule::exporters
