// One-way chat latency: a line written to alice's peerd local socket until it
// is read from bob's, beside the same hops done by plain sockets (Unix ->
// relay -> UDP -> relay -> Unix) in the same run. See docs/PERFORMANCE.md.
#include "BenchStats.h"
#include "DaemonProcess.h"
#include "LineSocket.h"
#include "LoopbackUdp.h"

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

// Sends count messages one at a time from a to b and times each one.
Samples measure(LineSocket& a, LineSocket& b, int count, const std::string& prefix, const std::string& suffix)
{
    Samples samples;
    for (int i = 0; i < count; ++i) {
        const std::string marker = "ping-" + std::to_string(i) + "-";
        const auto start = Clock::now();
        a.writeLine(prefix + marker + suffix);
        if (!b.waitLine(marker, kTimeout)) throw std::runtime_error("message " + std::to_string(i) + " did not arrive");
        samples.add(Clock::now() - start);
        a.drain();
    }
    return samples;
}

// The reference path: the same sockets a chat line crosses, with relays that
// do nothing but move bytes.
Samples measureReference(int count)
{
    int left[2];
    int right[2];
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, left);
    ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, right);
    sockaddr_in outAddress{};
    sockaddr_in inAddress{};
    const int out = bench::loopbackUdpSocket(outAddress);
    const int in = bench::loopbackUdpSocket(inAddress);

    std::thread sender([&] {
        char buffer[65536];
        while (true) {
            const ssize_t n = ::recv(left[1], buffer, sizeof buffer, 0);
            if (n <= 0) break;
            ::sendto(out, buffer, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&inAddress), sizeof inAddress);
        }
        ::shutdown(in, SHUT_RDWR);
    });
    std::thread receiver([&] {
        char buffer[65536];
        while (true) {
            const ssize_t n = ::recv(in, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            ::send(right[1], buffer, static_cast<std::size_t>(n), MSG_NOSIGNAL);
        }
    });

    Samples samples;
    {
        LineSocket a(left[0]);
        LineSocket b(right[0]);
        samples = measure(a, b, count, "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"", "\"}");
        ::shutdown(left[0], SHUT_RDWR);
        sender.join();
        receiver.join();
    }
    ::close(left[1]);
    ::close(right[1]);
    ::close(out);
    ::close(in);
    return samples;
}

Samples measurePeerchat(int warmup, int count)
{
    test::TempDir dir;
    test::DaemonProcess indexd("indexd", {"--port", "0", "--bind", "127.0.0.1"});
    indexd.start();
    const std::string index = indexd.waitReady()["udp"];

    auto startPeer = [&](const std::string& name) {
        auto peer = std::make_unique<test::DaemonProcess>(
            "peerd", std::vector<std::string>{"--user", name, "--index", index, "--port", "0", "--bind", "127.0.0.1",
                                              "--socket", dir.file(name + ".sock"), "--database",
                                              dir.file(name + ".db")});
        peer->start();
        peer->waitReady();
        return peer;
    };
    auto alice = startPeer("alice");
    auto bob = startPeer("bob");

    LineSocket a = LineSocket::connectUnix(dir.file("alice.sock"));
    LineSocket b = LineSocket::connectUnix(dir.file("bob.sock"));
    // Wait until alice's peerd lists bob as online, so sends do not fail.
    if (!a.askUntil("{\"op\":\"roster\"}", "\"name\":\"bob\"", std::chrono::seconds(10))) {
        throw std::runtime_error("bob never appeared in alice's roster");
    }
    b.writeLine("{\"op\":\"subscribe\",\"peer\":\"alice\"}");
    if (!b.waitLine("\"event\":\"history\"", kTimeout)) throw std::runtime_error("no history for bob");
    a.drain();
    const std::string prefix = "{\"op\":\"send\",\"to\":\"bob\",\"text\":\"";
    measure(a, b, warmup, prefix, "\"}");
    return measure(a, b, count, prefix, "\"}");
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    const int count = argc > 1 ? std::atoi(argv[1]) : 2000;
    try {
        const int warmup = count / 10;
        measureReference(warmup);
        Samples reference = measureReference(count);
        Samples peerchat = measurePeerchat(warmup, count);
        std::printf("one-way chat latency, %d messages, one in flight:\n", count);
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
