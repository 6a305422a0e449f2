// `anvil mcp` driven by a real MCP client over stdio: the server is started
// as a child process (ANVIL_CLI_PATH) with pipes, in a fresh workspace, and
// spoken to one JSON-RPC line at a time, as Claude Code or Codex would.
//
// Covered: the handshake (version negotiation, capabilities, instructions),
// ping, tools/list, every tool with good arguments on a real CPU task (a
// reduced copy of examples/softmax: one dtype, three small shapes, so a
// verify is a few seconds), progress notifications, and the error kinds:
// -32700 malformed line, -32600 invalid request, -32601 unknown method,
// -32602 unknown tool / missing argument / wrong type / bad enum / both
// candidate and source, and isError results for a missing task file and a
// wrong kernel (verdict "wrong": decided and documented in docs/mcp.md).
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_runner.h"

namespace anvil::testing {
namespace {

using json = nlohmann::json;

// An MCP client over the stdio of a child `anvil mcp`.
class McpClient {
 public:
  explicit McpClient(const CliWorkspace& ws) {
    int to_child[2], from_child[2];
    EXPECT_EQ(pipe(to_child), 0);
    EXPECT_EQ(pipe(from_child), 0);
    std::string stderr_path = ws.dir() + "/mcp-stderr.log";
    stderr_path_ = stderr_path;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(to_child[0], 0);
      dup2(from_child[1], 1);
      FILE* err = fopen(stderr_path.c_str(), "w");  // a file, so a chatty server never blocks on a full pipe
      if (err != nullptr) dup2(fileno(err), 2);
      close(to_child[1]);
      close(from_child[0]);
      if (chdir(ANVIL_SOURCE_DIR) != 0) _exit(127);
      execl(ANVIL_CLI_PATH, ANVIL_CLI_PATH, "--workspace", ws.dir().c_str(), "mcp", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    in_ = to_child[1];
    out_ = from_child[0];
  }

  ~McpClient() {
    if (in_ >= 0) close(in_);
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) close(out_);
  }

  void SendRaw(const std::string& line) {
    std::string data = line + "\n";
    ASSERT_EQ(write(in_, data.data(), data.size()), static_cast<ssize_t>(data.size()));
  }
  void Send(const json& message) { SendRaw(message.dump()); }

  // The next message from the server, or nullopt after `timeout_s` (or EOF).
  std::optional<json> Read(double timeout_s) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    while (true) {
      size_t newline = buffer_.find('\n');
      if (newline != std::string::npos) {
        std::string line = buffer_.substr(0, newline);
        buffer_.erase(0, newline + 1);
        json j = json::parse(line, nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << "server wrote a line that is not JSON: " << line;
        if (j.is_discarded()) return std::nullopt;
        return j;
      }
      int left_ms = static_cast<int>(
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
      if (left_ms <= 0) return std::nullopt;
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, left_ms) <= 0) continue;
      char chunk[65536];
      ssize_t n = read(out_, chunk, sizeof chunk);
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Sends a request and returns its response; notifications that arrive
  // first are appended to `notifications`.
  json Request(const std::string& method, const json& params, double timeout_s = 30,
               std::vector<json>* notifications = nullptr) {
    int id = next_id_++;
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = params;
    Send(message);
    return AwaitResponse(id, timeout_s, notifications);
  }

  json AwaitResponse(const json& id, double timeout_s, std::vector<json>* notifications = nullptr) {
    while (auto m = Read(timeout_s)) {
      if (m->contains("id") && (*m)["id"] == id && !m->contains("method")) return *m;
      EXPECT_TRUE(m->contains("method")) << "unexpected message " << m->dump();
      if (notifications != nullptr) notifications->push_back(*m);
    }
    ADD_FAILURE() << "no response to request " << id.dump() << " within " << timeout_s << " s; server stderr:\n"
                  << ReadTextFile(stderr_path_);
    return json::object();
  }

  // tools/call: the whole response.
  json Call(const std::string& tool, const json& arguments, double timeout_s = 30,
            std::vector<json>* notifications = nullptr, const json& progress_token = nullptr) {
    json params = {{"name", tool}, {"arguments", arguments}};
    if (!progress_token.is_null()) params["_meta"] = {{"progressToken", progress_token}};
    return Request("tools/call", params, timeout_s, notifications);
  }

  void Initialize() {
    json r = Request("initialize", {{"protocolVersion", "2025-06-18"},
                                    {"capabilities", json::object()},
                                    {"clientInfo", {{"name", "mcp_test"}, {"version", "1"}}}});
    ASSERT_TRUE(r.contains("result")) << r.dump();
    Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
  }

  // Closes the server's stdin and returns its exit code (-1: still running after 30 s).
  int CloseAndWait() {
    close(in_);
    in_ = -1;
    for (int i = 0; i < 300; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      usleep(100 * 1000);
    }
    return -1;
  }

  const std::string& stderr_path() const { return stderr_path_; }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1;
  bool exited_ = false;
  int next_id_ = 1;
  std::string buffer_;
  std::string stderr_path_;
};

// The error code of a JSON-RPC error response (0 when it is not one).
int ErrorCode(const json& response) {
  return response.contains("error") ? response["error"].value("code", 0) : 0;
}
std::string ErrorMessage(const json& response) {
  return response.contains("error") ? response["error"].value("message", "") : "";
}

// A tool result's structuredContent, after checking that the text content
// holds the same JSON.
json Structured(const json& response) {
  EXPECT_TRUE(response.contains("result")) << response.dump();
  if (!response.contains("result")) return json::object();
  const json& r = response["result"];
  EXPECT_EQ(r["content"].size(), 1u);
  EXPECT_EQ(r["content"][0]["type"], "text");
  EXPECT_EQ(json::parse(r["content"][0]["text"].get<std::string>()), r["structuredContent"]);
  return r["structuredContent"];
}
bool IsError(const json& response) { return response["result"].value("isError", false); }

// softmax reduced to what a test can afford: f32, three small shapes, and the
// distributions where the wrong kernel (no max subtraction) overflows.
std::string WriteSmallSoftmaxTask(const CliWorkspace& ws) {
  std::string path = ws.dir() + "/mcp_softmax.toml";
  std::ofstream(path) << R"toml(name = "mcp_softmax"
description = "Row softmax with temperature t (a reduced copy of examples/softmax for the MCP test)."
formula = "out = softmax(x / t, -1)"

[types]
T = ["f32"]

[[inputs]]
name = "x"
dtype = "T"
shape = ["R", "C"]

[[attrs]]
name = "t"
dtype = "f32"
value = 0.7

[[outputs]]
name = "out"

[correctness]
shapes = [{R = 1, C = 1}, {R = 3, C = 40}, {R = 2, C = 1000}]
layouts = ["contiguous"]
distributions = ["normal", "heavy", "special"]
seeds = [1]

[performance]
shapes = [{R = 64, C = 256}]

[compare]
mode = "allclose"
)toml";
  return path;
}

TEST(Mcp, HandshakeToolsListAndCleanExit) {
  CliWorkspace ws;
  McpClient client(ws);
  json init = client.Request("initialize", {{"protocolVersion", "2024-11-05"},
                                            {"capabilities", json::object()},
                                            {"clientInfo", {{"name", "mcp_test"}, {"version", "1"}}}});
  ASSERT_TRUE(init.contains("result")) << init.dump();
  EXPECT_EQ(init["result"]["protocolVersion"], "2024-11-05");  // a supported version is answered as asked
  EXPECT_EQ(init["result"]["capabilities"]["tools"]["listChanged"], false);
  EXPECT_EQ(init["result"]["serverInfo"]["name"], "anvil");
  EXPECT_NE(init["result"]["instructions"].get<std::string>().find("agent-skill.md"), std::string::npos);
  client.Send({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});  // answered by nothing

  // An unknown version gets the newest the server speaks.
  json other = client.Request("initialize", {{"protocolVersion", "1999-01-01"}, {"capabilities", json::object()},
                                             {"clientInfo", {{"name", "old"}, {"version", "0"}}}});
  EXPECT_EQ(other["result"]["protocolVersion"], "2025-06-18");
  // 2025-03-26 requires JSON-RPC batches, which the server refuses: not offered.
  json batching = client.Request("initialize", {{"protocolVersion", "2025-03-26"}, {"capabilities", json::object()},
                                                {"clientInfo", {{"name", "batching"}, {"version", "0"}}}});
  EXPECT_EQ(batching["result"]["protocolVersion"], "2025-06-18");

  json ping = client.Request("ping", nullptr);  // the notification above produced no message before this answer
  EXPECT_EQ(ping["result"], json::object()) << ping.dump();

  json list = client.Request("tools/list", json::object());
  std::set<std::string> names;
  for (const json& t : list["result"]["tools"]) {
    names.insert(t["name"].get<std::string>());
    EXPECT_EQ(t["inputSchema"]["type"], "object") << t.dump();
    EXPECT_FALSE(t["description"].get<std::string>().empty());
  }
  EXPECT_EQ(names, (std::set<std::string>{"list_tasks", "show_task", "verify", "bench", "search_kernels",
                                          "save_kernel"}));
  EXPECT_EQ(client.CloseAndWait(), 0);  // EOF on stdin ends the server cleanly
}

TEST(Mcp, ProtocolErrorsHaveTheirKinds) {
  CliWorkspace ws;
  McpClient client(ws);
  client.Initialize();

  client.SendRaw("{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": ");  // cut off: not JSON
  auto parse = client.Read(10);
  ASSERT_TRUE(parse.has_value());
  EXPECT_EQ(ErrorCode(*parse), -32700) << parse->dump();
  EXPECT_TRUE((*parse)["id"].is_null());

  client.Send({{"id", 8}, {"method", "ping"}});  // no "jsonrpc": "2.0"
  json invalid = client.AwaitResponse(8, 10);
  EXPECT_EQ(ErrorCode(invalid), -32600) << invalid.dump();

  json unknown_method = client.Request("resources/list", json::object());
  EXPECT_EQ(ErrorCode(unknown_method), -32601) << unknown_method.dump();

  json unknown_tool = client.Call("compile_everything", json::object());
  EXPECT_EQ(ErrorCode(unknown_tool), -32602);
  EXPECT_NE(ErrorMessage(unknown_tool).find("verify"), std::string::npos) << "names the tools that exist";

  json missing = client.Call("verify", {{"target", "cpu"}, {"candidate", "examples/softmax/kernel.cpp"}});
  EXPECT_EQ(ErrorCode(missing), -32602);
  EXPECT_NE(ErrorMessage(missing).find("missing required argument 'task'"), std::string::npos)
      << ErrorMessage(missing);

  json wrong_type = client.Call("search_kernels", {{"limit", "ten"}});
  EXPECT_EQ(ErrorCode(wrong_type), -32602);
  EXPECT_NE(ErrorMessage(wrong_type).find("argument 'limit': expected an integer, got a string"), std::string::npos)
      << ErrorMessage(wrong_type);

  json bad_enum = client.Call("show_task", {{"task", "examples/softmax/task.toml"}, {"backend", "gpu"}});
  EXPECT_EQ(ErrorCode(bad_enum), -32602);
  EXPECT_NE(ErrorMessage(bad_enum).find("\"cpu\", \"cuda\", \"triton\""), std::string::npos)
      << ErrorMessage(bad_enum);

  json extra = client.Call("list_tasks", {{"directory", "examples"}});
  EXPECT_EQ(ErrorCode(extra), -32602);
  EXPECT_NE(ErrorMessage(extra).find("unknown argument 'directory'"), std::string::npos) << ErrorMessage(extra);

  json both = client.Call("verify", {{"task", "examples/softmax/task.toml"}, {"target", "cpu"},
                                     {"candidate", "examples/softmax/kernel.cpp"}, {"source", "int x;"}});
  EXPECT_EQ(ErrorCode(both), -32602);
  EXPECT_NE(ErrorMessage(both).find("exactly one"), std::string::npos) << ErrorMessage(both);

  // A tool that runs and fails is a result with isError, and says what is wrong.
  json no_task = client.Call("show_task", {{"task", "examples/no_such_task.toml"}});
  ASSERT_TRUE(no_task.contains("result")) << no_task.dump();
  EXPECT_TRUE(IsError(no_task));
  EXPECT_NE(Structured(no_task)["error"].get<std::string>().find("no_such_task.toml"), std::string::npos);
  json no_candidate = client.Call("verify", {{"task", "examples/softmax/task.toml"}, {"target", "cpu"},
                                             {"candidate", "examples/softmax/missing.cpp"}});
  EXPECT_TRUE(IsError(no_candidate));
  EXPECT_NE(Structured(no_candidate)["error"].get<std::string>().find("missing.cpp: no such file"),
            std::string::npos);
  json not_saved = client.Call("save_kernel", {{"evaluation_id", 999}});
  EXPECT_TRUE(IsError(not_saved)) << not_saved.dump();

  // After all that the connection still serves.
  EXPECT_EQ(client.Request("ping", nullptr)["result"], json::object());
  EXPECT_EQ(client.CloseAndWait(), 0);
}

TEST(Mcp, ListAndShowTasksWithTheAbiAndKnowledge) {
  CliWorkspace ws;
  McpClient client(ws);
  client.Initialize();
  json listed = Structured(client.Call("list_tasks", json::object()));
  std::set<std::string> names;
  for (const json& t : listed["tasks"]) names.insert(t.value("name", ""));
  EXPECT_TRUE(names.count("softmax")) << listed.dump();
  json one_dir = Structured(client.Call("list_tasks", {{"dirs", {"examples/softmax"}}}));
  ASSERT_EQ(one_dir["tasks"].size(), 1u);
  EXPECT_EQ(one_dir["tasks"][0]["formula"], "out = softmax(x / t, -1)");

  json cpu = Structured(client.Call("show_task", {{"task", "examples/softmax/task.toml"}, {"backend", "cpu"}}));
  EXPECT_TRUE(cpu["graphs"].contains("T=f32")) << cpu["graphs"].dump();
  EXPECT_NE(cpu["abi"]["call"].get<std::string>().find("call->inputs[0] = x"), std::string::npos);
  EXPECT_NE(cpu["abi"]["files"][0]["text"].get<std::string>().find("ANVIL_EXPORT int anvil_kernel"),
            std::string::npos);
  // knowledge/cpu/ is written by people and may not exist yet: either its docs, in name order, or a note.
  std::string kdir = SourcePath("knowledge/cpu");
  if (std::filesystem::is_directory(kdir)) {
    std::vector<std::string> md;
    for (const auto& e : std::filesystem::directory_iterator(kdir))
      if (e.path().extension() == ".md") md.push_back(e.path().filename().string());
    std::sort(md.begin(), md.end());
    ASSERT_EQ(cpu["knowledge"]["docs"].size(), md.size());
    for (size_t i = 0; i < md.size(); ++i) EXPECT_EQ(cpu["knowledge"]["docs"][i]["name"], md[i]);
  } else {
    EXPECT_TRUE(cpu["knowledge"].contains("missing")) << cpu["knowledge"].dump();
  }
  json triton = Structured(client.Call("show_task", {{"task", "examples/softmax/task.toml"}, {"backend", "triton"}}));
  EXPECT_EQ(triton["abi"]["call"], "def anvil_kernel(x, out, t)  # called with keyword arguments");
  EXPECT_NE(triton["abi"]["contract"].get<std::string>().find("@triton.jit"), std::string::npos);
  EXPECT_EQ(client.CloseAndWait(), 0);
}

TEST(Mcp, VerifyBenchSearchAndSaveAKernel) {
  CliWorkspace ws;
  std::string task = WriteSmallSoftmaxTask(ws);
  McpClient client(ws);
  client.Initialize();

  // verify a correct kernel, with progress.
  std::vector<json> notes;
  json good = client.Call("verify", {{"task", task}, {"target", "cpu"}, {"candidate", "examples/softmax/kernel.cpp"}},
                          300, &notes, "verify-1");
  json v = Structured(good);
  ASSERT_EQ(v["verdict"], "correct") << v.dump(2);
  EXPECT_FALSE(IsError(good));
  int64_t eval_id = v["evaluation_id"];
  EXPECT_GT(eval_id, 0);
  EXPECT_EQ(v["results"][0]["cases_total"], 9);
  EXPECT_TRUE(v["results"][0]["cases"].empty()) << "only cases that did not pass are shown by default";
  std::vector<double> progress;
  for (const json& n : notes) {
    ASSERT_EQ(n["method"], "notifications/progress") << n.dump();
    EXPECT_EQ(n["params"]["progressToken"], "verify-1");
    progress.push_back(n["params"]["progress"].get<double>());
  }
  ASSERT_GE(progress.size(), 2u);
  for (size_t i = 1; i < progress.size(); ++i) EXPECT_GT(progress[i], progress[i - 1]) << "progress must increase";
  EXPECT_EQ(progress.back(), 9);
  EXPECT_EQ(notes.back()["params"]["total"], 9);

  // verify a wrong kernel given as source text: a result with isError and the verdict.
  std::string wrong_source = ReadTextFile(SourcePath("examples/wrong_softmax/kernel.cpp"));
  ASSERT_FALSE(wrong_source.empty());
  json bad = client.Call("verify", {{"task", task}, {"target", "cpu"}, {"source", wrong_source}}, 300);
  json w = Structured(bad);
  EXPECT_TRUE(IsError(bad));
  EXPECT_EQ(w["verdict"], "wrong") << w.dump(2);
  EXPECT_FALSE(w["reason"].get<std::string>().empty());
  EXPECT_EQ(w["results"][0]["worker_start_seconds"], 0) << "the first verify's worker serves the second";
  ASSERT_FALSE(w["results"][0]["cases"].empty());
  for (const json& c : w["results"][0]["cases"]) EXPECT_NE(c["verdict"], "correct");
  std::string written = w["candidate"];
  EXPECT_EQ(std::filesystem::path(written).parent_path(), std::filesystem::path(ws.dir()) / "mcp");
  EXPECT_EQ(ReadTextFile(written), wrong_source);
  json unsaved = client.Call("save_kernel", {{"evaluation_id", w["evaluation_id"]}});
  EXPECT_TRUE(IsError(unsaved));
  EXPECT_NE(Structured(unsaved)["error"].get<std::string>().find("not correct"), std::string::npos);

  // bench the correct one: timed against eager, raw samples left out.
  json timed = client.Call("bench", {{"task", task}, {"target", "cpu"}, {"candidate", "examples/softmax/kernel.cpp"}},
                           300);
  json b = Structured(timed);
  ASSERT_EQ(b["verdict"], "correct") << b.dump(2);
  EXPECT_GT(b["speedup"].get<double>(), 0);
  ASSERT_FALSE(b["results"][0]["timings"].empty());
  for (const json& t : b["results"][0]["timings"]) EXPECT_FALSE(t.contains("samples_ns"));

  // The proven kernel is found, with its source and the agent provenance.
  json found = Structured(client.Call("search_kernels", {{"query", "softmax"}, {"backend", "cpu"}}));
  ASSERT_GE(found["hits"].size(), 1u) << found.dump();
  EXPECT_EQ(found["hits"][0]["task"], "mcp_softmax");
  EXPECT_EQ(found["hits"][0]["provenance"], "agent");
  EXPECT_EQ(found["hits"][0]["source"], ReadTextFile(SourcePath("examples/softmax/kernel.cpp")));

  // save_kernel writes the source under a header naming the evaluation, and marks it saved.
  json saved = Structured(client.Call("save_kernel", {{"evaluation_id", eval_id}, {"note", "from the MCP test"}}));
  std::string path = saved["path"];
  EXPECT_EQ(path, ws.dir() + "/kernels/mcp_softmax/cpu-e" + std::to_string(eval_id) + ".cpp");
  std::string text = ReadTextFile(path);
  EXPECT_EQ(text.substr(0, text.find('\n')),
            "// anvil: evaluation " + std::to_string(eval_id) + " of task mcp_softmax (cpu): verdict correct");
  EXPECT_EQ(text.substr(text.find('\n') + 1), ReadTextFile(SourcePath("examples/softmax/kernel.cpp")));
  json only_saved = Structured(client.Call("search_kernels", {{"saved_only", true}}));
  ASSERT_EQ(only_saved["hits"].size(), 1u) << only_saved.dump();
  EXPECT_EQ(only_saved["hits"][0]["saved"], true);

  // Saving a second kernel of the same task and backend keeps the first file
  // (its saved row points at it): each evaluation gets its own default file.
  const int64_t bench_id = b["evaluation_id"];
  json again = Structured(client.Call("save_kernel", {{"evaluation_id", bench_id}}));
  std::string second = again["path"];
  EXPECT_EQ(second, ws.dir() + "/kernels/mcp_softmax/cpu-e" + std::to_string(bench_id) + ".cpp");
  EXPECT_NE(second, path);
  std::string first_text = ReadTextFile(path);
  EXPECT_EQ(first_text.substr(0, first_text.find('\n')),
            "// anvil: evaluation " + std::to_string(eval_id) + " of task mcp_softmax (cpu): verdict correct");
  EXPECT_EQ(client.CloseAndWait(), 0);

  // The store holds what the tools did, as the CLI sees it (one JSON document on stdout).
  CliRun results = ws.Run({"--json", "results"});
  ASSERT_EQ(results.exit_code, 0) << results.output;
  ASSERT_EQ(results.json.size(), 3u) << results.output;  // verify, verify, bench
}

}  // namespace
}  // namespace anvil::testing
