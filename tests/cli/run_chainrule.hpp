// SPDX-License-Identifier: MIT
// Runs the built `chainrule` binary as a child process, the way a user's shell would, and
// captures its exit code, stdout and stderr. A child that runs longer than the time limit is
// killed and reported as hung, so a hang fails the test instead of stalling ctest.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#ifndef CHAINRULE_BINARY
#error "CHAINRULE_BINARY must name the chainrule executable"
#endif

namespace chainrule::test {

struct process_result {
  int exit_code = -1;  ///< -1 when the process did not exit normally (signal, killed as hung)
  bool hung = false;
  int signal = 0;
  std::string out;
  std::string err;
};

inline std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A fresh directory under the system temp folder, removed on destruction.
class scratch_directory {
 public:
  explicit scratch_directory(const std::string& tag) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / ("chainrule-" + tag + "-XXXXXX")).string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~scratch_directory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  scratch_directory(const scratch_directory&) = delete;
  scratch_directory& operator=(const scratch_directory&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// Runs `chainrule args...` in `working_directory`. Output goes to files rather than pipes so a
/// child that writes a lot can never block on a full pipe.
inline process_result run_chainrule(const std::vector<std::string>& args,
                                    const std::filesystem::path& working_directory,
                                    std::chrono::seconds time_limit = std::chrono::seconds(120)) {
  const scratch_directory capture("capture");
  const std::string out_path = (capture.path() / "stdout").string();
  const std::string err_path = (capture.path() / "stderr").string();
  std::vector<std::string> argv_storage;
  argv_storage.emplace_back(CHAINRULE_BINARY);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string cwd = working_directory.string();

  const pid_t child = fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    // Only async-signal-safe calls between fork and exec.
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || err < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || chdir(cwd.c_str()) != 0)
      _exit(126);
    execv(argv[0], argv.data());
    _exit(127);
  }
  process_result result;
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + time_limit;
  for (;;) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(child, SIGKILL);
      waitpid(child, &status, 0);
      result.hung = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!result.hung && WIFEXITED(status)) result.exit_code = WEXITSTATUS(status);
  if (!result.hung && WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  result.out = read_whole_file(out_path);
  result.err = read_whole_file(err_path);
  return result;
}

inline void write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace chainrule::test
