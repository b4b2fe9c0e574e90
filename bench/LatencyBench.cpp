// One-way chat latency: a line written to alice's peerd local socket until it
// is read from bob's, beside the same hops done by plain sockets (Unix ->
// relay -> UDP -> relay -> Unix) in the same run, a hundred lines of each in
// turn, so that both paths see the machine in the same state. See
// docs/PERFORMANCE.md.
#include "BenchStats.h"
#include "DaemonProcess.h"
#include "LineSocket.h"
#include "LoopbackUdp.h"

#include <algorithm>
#include <arpa/inet.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace peerchat;
using bench::Clock;
using bench::LineSocket;
using bench::Samples;

namespace {

constexpr auto kTimeout = std::chrono::seconds(5);
// Lines of one path before the other's turn.
constexpr int kBlock = 100;
const std::string kPrefix = "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"";
const std::string kSuffix = "\"}";

// One line from a to b, timed.
Clock::duration measureOne(LineSocket& a, LineSocket& b, int i)
{
    const std::string marker = "ping-" + std::to_string(i) + "-";
    const auto start = Clock::now();
    a.writeLine(kPrefix + marker + kSuffix);
    if (!b.waitLine(marker, kTimeout)) throw std::runtime_error("message " + std::to_string(i) + " did not arrive");
    const auto took = Clock::now() - start;
    a.drain();
    return took;
}

// The reference path: the same sockets a chat line crosses, with relays that
// do nothing but move bytes.
class PlainRelays
{
public:
    PlainRelays()
    {
        ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, _left);
        ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, _right);
        _out = bench::loopbackUdpSocket(_outAddress);
        _in = bench::loopbackUdpSocket(_inAddress);
        _a = std::make_unique<LineSocket>(_left[0]);
        _b = std::make_unique<LineSocket>(_right[0]);
        _sender = std::thread([this] {
            char buffer[65536];
            while (true) {
                const ssize_t n = ::recv(_left[1], buffer, sizeof buffer, 0);
                if (n <= 0) break;
                ::sendto(_out, buffer, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&_inAddress),
                         sizeof _inAddress);
            }
            ::shutdown(_in, SHUT_RDWR);
        });
        _receiver = std::thread([this] {
            char buffer[65536];
            while (true) {
                const ssize_t n = ::recv(_in, buffer, sizeof buffer, 0);
                if (n <= 0) break;
                ::send(_right[1], buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
            }
        });
    }

    ~PlainRelays()
    {
        ::shutdown(_left[0], SHUT_RDWR);
        _sender.join();
        _receiver.join();
        _a.reset();
        _b.reset();
        for (const int fd : {_left[1], _right[1], _out, _in}) ::close(fd);
    }

    PlainRelays(const PlainRelays&) = delete;
    PlainRelays& operator=(const PlainRelays&) = delete;

    LineSocket& a() { return *_a; }
    LineSocket& b() { return *_b; }

private:
    int _left[2]{};
    int _right[2]{};
    sockaddr_in _outAddress{};
    sockaddr_in _inAddress{};
    int _out = -1;
    int _in = -1;
    std::unique_ptr<LineSocket> _a;
    std::unique_ptr<LineSocket> _b;
    std::thread _sender;
    std::thread _receiver;
};

// indexd, alice's and bob's peerds, a client on each local socket, bob's
// subscribed to alice, once they are contacts and alice sees bob online.
class ChatPair
{
public:
    ChatPair() : _indexd("indexd", {"--port", "0", "--bind", "127.0.0.1"})
    {
        _indexd.start();
        const std::string index = _indexd.waitReady()["udp"];
        for (const std::string name : {"alice", "bob"}) {
            auto& peer = _peers.emplace_back(std::make_unique<test::DaemonProcess>(
                "peerd", std::vector<std::string>{"--user", name, "--index", index, "--port", "0", "--bind",
                                                  "127.0.0.1", "--socket", _dir.file(name + ".sock"), "--database",
                                                  _dir.file(name + ".db")}));
            peer->start();
            peer->waitReady();
        }
        _a = std::make_unique<LineSocket>(LineSocket::connectUnix(_dir.file("alice.sock")));
        _b = std::make_unique<LineSocket>(LineSocket::connectUnix(_dir.file("bob.sock")));
        for (LineSocket* client : {_a.get(), _b.get()}) {
            if (!client->waitLoggedIn(std::chrono::seconds(10))) throw std::runtime_error("a peerd did not log in");
        }
        // Contacts, as two users make themselves: each adds the other.
        _a->writeLine("{\"op\":\"add\",\"peer\":\"bob\"}");
        _b->writeLine("{\"op\":\"add\",\"peer\":\"alice\"}");
        if (!_a->waitOnline("bob", std::chrono::seconds(10))) throw std::runtime_error("alice never saw bob online");
        _b->writeLine("{\"op\":\"subscribe\",\"peer\":\"alice\"}");
        if (!_b->waitLine("\"event\":\"history\"", kTimeout)) throw std::runtime_error("no history for bob");
        _a->drain();
    }

    LineSocket& a() { return *_a; }
    LineSocket& b() { return *_b; }

private:
    test::TempDir _dir;
    test::DaemonProcess _indexd;
    std::vector<std::unique_ptr<test::DaemonProcess>> _peers;
    std::unique_ptr<LineSocket> _a;
    std::unique_ptr<LineSocket> _b;
};

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    const int count = argc > 1 ? std::atoi(argv[1]) : 2000;
    try {
        PlainRelays plain;
        ChatPair chat;
        // The two paths in turn, a block of lines each: a stretch of time
        // when this VM is slower or faster falls on both alike (run one after
        // the other, the plain path's p50 moved between 21 and 65 us from run
        // to run). Blocks, not single lines, so that peerd's work after a line
        // (its writer's transaction, its delayed ack) rarely runs beside a
        // plain line being timed.
        Samples reference;
        Samples peerchat;
        const int warmup = count / 10;
        for (int block = 0; block * kBlock < warmup + count; ++block) {
            for (const bool isPlain : {block % 2 == 0, block % 2 != 0}) {
                for (int i = block * kBlock; i < std::min((block + 1) * kBlock, warmup + count); ++i) {
                    const Clock::duration took =
                        isPlain ? measureOne(plain.a(), plain.b(), i) : measureOne(chat.a(), chat.b(), i);
                    if (i >= warmup) (isPlain ? reference : peerchat).add(took);
                }
            }
        }
        std::printf("one-way chat latency, %d messages, one in flight, the two paths in turn:\n", count);
        bench::printLatency("plain sockets (unix-udp-unix)", reference);
        bench::printLatency("peerchat (chatui->peerd->peerd)", peerchat);
        std::printf("  ratio peerchat/plain at p50: %.2f, at p99: %.2f\n",
                    peerchat.percentile(50) / reference.percentile(50), peerchat.percentile(99) / reference.percentile(99));
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "LatencyBench failed: %s\n", e.what());
        return 1;
    }
}
