// SPDX-License-Identifier: MIT
#include "chainrule/exporters/pdflatex.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "chainrule/exporters/output_file.hpp"

extern char** environ;

namespace chainrule::exporters {
namespace fs = std::filesystem;

namespace {

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

bool is_executable_file(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// A fresh private directory, removed with everything in it when the guard goes away.
class temporary_directory {
 public:
  temporary_directory() {
    std::error_code error;
    fs::path base = fs::temp_directory_path(error);
    if (error) base = "/tmp";
    std::string pattern = (base / "chainrule-pdflatex-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      throw pdflatex_error(fmt::format("cannot create a temporary directory in '{}': {}",
                                       base.string(), errno_text(errno)),
                           {});
    }
    path_ = pattern;
  }
  ~temporary_directory() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  temporary_directory(const temporary_directory&) = delete;
  temporary_directory& operator=(const temporary_directory&) = delete;

  [[nodiscard]] const fs::path& path() const noexcept { return path_; }

 private:
  fs::path path_;
};

// The child's environment: ours, with TeX's file access confined to its working directory and
// a fixed date, so that the same document gives the same PDF bytes.
std::vector<std::string> child_environment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view entry(*e);
    const auto named = [&](std::string_view name) {
      return entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=';
    };
    if (named("openin_any") || named("openout_any") || named("shell_escape") ||
        named("FORCE_SOURCE_DATE")) {
      continue;
    }
    if (named("SOURCE_DATE_EPOCH")) continue;
    env.emplace_back(entry);
  }
  env.emplace_back("openin_any=p");
  env.emplace_back("openout_any=p");
  env.emplace_back("shell_escape=f");
  const char* epoch = std::getenv("SOURCE_DATE_EPOCH");
  env.push_back(std::string("SOURCE_DATE_EPOCH=") + (epoch != nullptr ? epoch : "0"));
  env.emplace_back("FORCE_SOURCE_DATE=1");
  return env;
}

struct run_result {
  bool timed_out = false;
  int status = 0;  // exit status, or 128 + signal
};

run_result run_pdflatex(const fs::path& program, const fs::path& directory,
                        const std::string& job_name, std::chrono::seconds timeout) {
  std::vector<std::string> arguments{program.string(), "-no-shell-escape", "-halt-on-error",
                                     "-interaction=nonstopmode", job_name + ".tex"};
  std::vector<char*> argv;
  for (std::string& a : arguments)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> environment = child_environment();
  std::vector<char*> envp;
  for (std::string& e : environment)
    envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  const std::string output = (directory / "pdflatex.out").string();
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addchdir_np(&actions, directory.c_str());
  // Its own process group, so that a timeout stops helpers it started too.
  posix_spawnattr_setpgroup(&attributes, 0);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);

  pid_t pid = 0;
  const int spawned =
      posix_spawn(&pid, program.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    throw pdflatex_error(fmt::format("cannot run '{}': {}", program.string(), errno_text(spawned)),
                         {});
  }

  const auto deadline = std::chrono::steady_clock::now() + timeout;
  run_result result;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      throw pdflatex_error(fmt::format("lost track of pdflatex: {}", errno_text(errno)), {});
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      result.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) {
    result.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.status = 128 + WTERMSIG(status);
  }
  return result;
}

std::string read_if_exists(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return {};
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// The document line named by the first "l.NN" context line of the excerpt, if any.
std::string offending_line(std::string_view excerpt, std::string_view document) {
  for (std::string_view line : split_lines(excerpt)) {
    if (!line.starts_with("l.")) continue;
    std::size_t number = 0;
    std::size_t k = 2;
    while (k < line.size() && line[k] >= '0' && line[k] <= '9') {
      number = number * 10 + static_cast<std::size_t>(line[k] - '0');
      ++k;
    }
    const std::vector<std::string_view> lines = split_lines(document);
    if (number == 0 || number > lines.size()) return {};
    std::string_view text = lines[number - 1];
    if (text.size() > 300) text = text.substr(0, 300);
    return fmt::format("line {} of the generated LaTeX: {}", number, text);
  }
  return {};
}

bool asks_for_rerun(std::string_view log) {
  return log.find("Rerun to get") != std::string_view::npos ||
         log.find("Label(s) may have changed") != std::string_view::npos;
}

}  // namespace

std::optional<fs::path> find_program(std::string_view program) {
  if (program.empty()) return std::nullopt;
  if (program.find('/') != std::string_view::npos) {
    if (is_executable_file(fs::path(program))) return fs::path(program);
    return std::nullopt;
  }
  const char* path_variable = std::getenv("PATH");
  const std::string_view path = path_variable != nullptr ? path_variable : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find(':', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view entry = path.substr(start, end - start);
    const fs::path candidate = fs::path(entry.empty() ? "." : entry) / program;
    if (is_executable_file(candidate)) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::string log_excerpt(std::string_view log, std::size_t max_lines) {
  const std::vector<std::string_view> lines = split_lines(log);
  std::vector<std::string_view> picked;
  for (std::size_t i = 0; i < lines.size() && picked.size() < max_lines; ++i) {
    const std::string_view line = lines[i];
    if (line.starts_with("! ")) {
      // The message, TeX's context lines and the `l.NN` line with the text after it.
      for (std::size_t k = i; k < lines.size() && k < i + 12 && picked.size() < max_lines; ++k) {
        picked.push_back(lines[k]);
        if (lines[k].starts_with("l.")) {
          if (k + 1 < lines.size() && !lines[k + 1].empty()) picked.push_back(lines[k + 1]);
          i = k + 1;
          break;
        }
      }
    } else if (line.starts_with("LaTeX Warning: Reference") ||
               line.starts_with("LaTeX Warning: Citation")) {
      picked.push_back(line);
    }
  }
  if (picked.empty()) {
    // No TeX error message: the end of the log says where it stopped.
    const std::size_t tail = std::min<std::size_t>(lines.size(), 15);
    picked.assign(lines.end() - static_cast<std::ptrdiff_t>(tail), lines.end());
  }
  std::string out;
  for (std::string_view line : picked) {
    out += line;
    out += '\n';
  }
  return out;
}

std::string compile_pdf(std::string_view latex_document, const pdflatex_options& options) {
  return compile_pdf_with_log(latex_document, options).pdf;
}

pdflatex_output compile_pdf_with_log(std::string_view latex_document,
                                     const pdflatex_options& options) {
  const std::optional<fs::path> program = find_program(options.program);
  if (!program) {
    throw pdflatex_error(
        fmt::format("{} was not found{}; install TeX Live (on Debian: texlive-latex-base "
                    "texlive-latex-recommended texlive-pictures) or write only the LaTeX with "
                    "--latex",
                    options.program,
                    options.program.find('/') == std::string::npos ? " on PATH" : ""),
        {});
  }
  temporary_directory directory;
  const fs::path tex = directory.path() / (options.job_name + ".tex");
  {
    std::ofstream out(tex, std::ios::binary);
    out.write(latex_document.data(), static_cast<std::streamsize>(latex_document.size()));
    if (!out.flush()) {
      throw pdflatex_error(fmt::format("cannot write '{}': {}", tex.string(), errno_text(errno)),
                           {});
    }
  }
  for (const auto& [name, contents] : options.extra_files) {
    if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos ||
        name == options.job_name + ".tex") {
      throw pdflatex_error(
          fmt::format("cannot add '{}' beside the document: give a plain file name", name), {});
    }
    std::ofstream extra(directory.path() / name, std::ios::binary);
    extra.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!extra.flush()) {
      throw pdflatex_error(fmt::format("cannot write '{}': {}", name, errno_text(errno)), {});
    }
  }
  const fs::path log_file = directory.path() / (options.job_name + ".log");
  const fs::path pdf_file = directory.path() / (options.job_name + ".pdf");
  std::string log;
  for (int run = 1; run <= std::max(1, options.max_runs); ++run) {
    const run_result result =
        run_pdflatex(*program, directory.path(), options.job_name, options.timeout);
    log = read_if_exists(log_file);
    if (result.timed_out) {
      throw pdflatex_error(fmt::format("pdflatex did not finish within {} s and was stopped",
                                       options.timeout.count()),
                           log_excerpt(log));
    }
    if (result.status != 0 || !fs::exists(pdf_file)) {
      std::string excerpt = log.empty() ? read_if_exists(directory.path() / "pdflatex.out") : log;
      excerpt = log_excerpt(excerpt);
      std::string message = fmt::format(
          "pdflatex failed (exit status {}) on the generated LaTeX:\n{}", result.status, excerpt);
      if (std::string where = offending_line(excerpt, latex_document); !where.empty()) {
        message += where;
        message += '\n';
      }
      while (!message.empty() && message.back() == '\n')
        message.pop_back();
      throw pdflatex_error(message, excerpt);
    }
    if (!asks_for_rerun(log)) break;
  }
  try {
    return {read_file(pdf_file), std::move(log)};
  } catch (const output_error& e) {
    throw pdflatex_error(e.what(), {});
  }
}

}  // namespace chainrule::exporters
