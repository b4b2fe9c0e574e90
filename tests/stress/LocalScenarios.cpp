// Rows 10, 11 and 12 of issue 9: peerd's own resources: its disk, its file
// descriptors, and its memory for local clients that do not read.
#include "ChatNetwork.h"
#include "Crowd.h"
#include "DaemonWatch.h"
#include "IdleConnections.h"
#include "ProbeChat.h"
#include "Scenario.h"
#include "TmpfsMount.h"

#include <Poco/JSON/Parser.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace peerchat::stress {

namespace {

// A bound of the issue: "sends work again within seconds after a full disk is freed".
constexpr double kSendsBackWithinSeconds = 10;

// Sends text to `to` through client; "sent", "error: MESSAGE", or "no reply" after timeout.
std::string sendAndWait(test::LocalClient& client, const std::string& to, const std::string& text,
                        std::chrono::milliseconds timeout)
{
    client.sendLine(test::sendRequest(to, text));
    const auto reply = client.waitFor(
        [](const test::LocalClient::Object& event) {
            const std::string name = event->optValue<std::string>("event", "");
            return name == "sent" || (name == "error" && event->optValue<std::string>("op", "") == "send");
        },
        timeout);
    if (!reply) return "no reply";
    if (reply->getValue<std::string>("event") == "sent") return "sent";
    return "error: " + reply->getValue<std::string>("message");
}

bool mentions(const std::string& text, const std::string& word)
{
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find(word) != std::string::npos;
}

// Row 10: alice's database on an 8 MiB tmpfs that is then filled: a 4 kB
// line every 500 ms for the flood's time, then the space is freed.
void fullDisk(const StressContext& context, Report& report)
{
    // Declared first: unmounted after the daemons that use it are gone.
    test::TmpfsMount disk(8 << 20);
    test::ChatNetwork net;
    net.startPeerd("bob");
    test::DaemonProcess& alicePeerd = net.startPeerd("alice", {"--database", disk.file("alice.db")});
    auto alice = net.attachOnline("alice");
    auto bob = net.attachOnline("bob");
    if (!test::befriend(*alice, "alice", *bob, "bob")) throw std::runtime_error("alice and bob do not see each other");
    test::subscribeTo(*bob, "alice");
    const std::string first = sendAndWait(*alice, "bob", "before the disk filled", 5s);
    if (first != "sent") throw std::runtime_error("a send before the disk filled: " + first);

    report.figure("filler written", Report::megabytes(double(disk.fill())));
    std::map<std::string, std::size_t> replies;
    const std::string line(4000, 'd');
    for (const auto end = context.floodEnd(); StressContext::Clock::now() < end && !StressContext::stopping();) {
        ++replies[sendAndWait(*alice, "bob", line, 5s)];
        StressContext::sleep(500ms);
    }
    disk.release();
    const auto freed = StressContext::Clock::now();
    std::optional<double> worksAfter;
    std::string lastReply;
    std::string lastText;
    for (int i = 0; !worksAfter && StressContext::secondsSince(freed) < 30 && !StressContext::stopping(); ++i) {
        lastText = "after the disk was freed " + std::to_string(i);
        lastReply = sendAndWait(*alice, "bob", lastText, 5s);
        if (lastReply == "sent") worksAfter = StressContext::secondsSince(freed);
        else StressContext::sleep(200ms);
    }
    const bool delivered = worksAfter && test::waitMessage(*bob, lastText, 10s) != nullptr;

    std::string whileFull;
    std::string error;
    for (const auto& [reply, n] : replies) {
        whileFull += (whileFull.empty() ? "" : "; ") + std::to_string(n) + "x " + reply;
        if (error.empty() && reply.rfind("error: ", 0) == 0) error = reply;
    }
    report.figure("sends while the disk was full", whileFull);
    report.figure("first send after freeing that worked",
                  worksAfter ? Report::duration(*worksAfter) + " after" : "none within 30 s (last: " + lastReply + ")");
    report.figure("that line reached bob", delivered ? "yes" : "no");
    report.figure("alice's peerd", alicePeerd.running() ? "running" : "exited");
    report.goal("the send's error says the disk is full", mentions(error, "disk") && mentions(error, "full"),
                error.empty() ? "no error" : error);
    report.bound("sends work again within seconds after a full disk is freed",
                 worksAfter && *worksAfter < kSendsBackWithinSeconds,
                 worksAfter ? Report::duration(*worksAfter) : "not within 30 s");
}

// What a new local client at path hears first within timeout: "welcome",
// "error: MESSAGE", or why nothing. Never blocks on a full backlog.
std::string greeting(const std::string& path, std::chrono::milliseconds timeout)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), std::min(path.size() + 1, sizeof address.sun_path - 1));
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("no socket: ") + std::strerror(errno);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        const std::string why = errno == EAGAIN ? "peerd's listen backlog is full" : std::strerror(errno);
        ::close(fd);
        return "could not connect: " + why;
    }
    std::string text;
    const auto deadline = StressContext::Clock::now() + timeout;
    while (text.find('\n') == std::string::npos && StressContext::Clock::now() < deadline) {
        pollfd ready{fd, POLLIN, 0};
        if (::poll(&ready, 1, 50) <= 0) continue;
        char buffer[4096];
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    const auto newline = text.find('\n');
    if (newline == std::string::npos) return text.empty() ? "nothing" : "half a line: " + text;
    try {
        const auto event = Poco::JSON::Parser().parse(text.substr(0, newline)).extract<Poco::JSON::Object::Ptr>();
        const std::string name = event->optValue<std::string>("event", "");
        return name == "error" ? "error: " + event->optValue<std::string>("message", "") : name;
    } catch (const Poco::Exception& e) {
        return "a line that is not an event: " + text.substr(0, newline);
    }
}

// True when the roster peerd reports to client lists name (online).
bool seesOnline(test::LocalClient& client, const std::string& name)
{
    const auto names = test::rosterNames(client);
    return std::find(names.begin(), names.end(), name) != names.end();
}

// Row 11: alice's peerd at 256 descriptors with 300 local clients that
// attach and say nothing; then indexd restarts, and dave, alice's contact,
// logs in and declares her before alice is back, so alice sees dave again
// only from the snapshot indexd answers her declared list with.
void descriptorLimit(const StressContext& context, Report& report)
{
    constexpr std::size_t kIdle = 300;
    constexpr rlim_t kDescriptors = 256;
    constexpr auto kSeenDeadline = 30s;
    test::ChatNetwork net;
    test::DaemonProcess& alicePeerd = net.startPeerd("alice", {"--heartbeat-ms", "2000"});
    const rlimit limit{kDescriptors, kDescriptors};
    if (::prlimit(alicePeerd.pid(), RLIMIT_NOFILE, &limit, nullptr) != 0)
        throw std::runtime_error(std::string("prlimit: ") + std::strerror(errno));
    auto watcher = net.attachOnline("alice");
    // dave, a client of the scenario's, and alice each declare the other.
    auto dave = Crowd::logIn(net, "dave");
    dave->declare({"alice"});
    watcher->sendLine(test::peerRequest("add", "dave"));
    if (!test::waitUntil([&] { return seesOnline(*watcher, "dave"); }))
        throw std::runtime_error("alice does not see dave");
    dave->logout();
    if (!test::waitUntil([&] { return !seesOnline(*watcher, "dave"); }))
        throw std::runtime_error("alice still sees dave after he logged out");
    DaemonWatch alice(alicePeerd);

    IdleConnections idle;
    const std::size_t connected = idle.openUnix(net.socketOf("alice"), kIdle, StressContext::Clock::now() + 10s);
    const double cpuBefore = alice.cpuSeconds();
    const auto start = StressContext::Clock::now();
    StressContext::sleepUntil(start + context.flood());
    const double seconds = StressContext::secondsSince(start);
    const double cpu = alice.cpuSeconds() - cpuBefore;
    const std::string newClient = greeting(net.socketOf("alice"), 5s);
    const std::size_t closed = idle.closedByPeer();

    net.restartIndexd(false);
    const auto restarted = StressContext::Clock::now();
    const auto daveBack = dave->login(net.index());
    if (!daveBack) throw std::runtime_error("dave could not log in after indexd restarted: " + daveBack.error());
    dave->declare({"alice"});
    std::optional<double> seenAfter;
    std::string seenProblem;
    try {
        const auto deadline = restarted + kSeenDeadline;
        while (!seenAfter && StressContext::Clock::now() < deadline && StressContext::sleep(200ms)) {
            if (seesOnline(*watcher, "dave")) seenAfter = StressContext::secondsSince(restarted);
        }
    } catch (const std::exception& e) {
        seenProblem = e.what();
    }

    report.figure("idle local clients connected", Report::count(connected) + " of " + std::to_string(kIdle) + ", " +
                                                      Report::count(closed) + " closed by peerd");
    report.figure("peerd CPU while they wait", Report::duration(cpu) + " in " + Report::duration(seconds));
    report.figure("a new client hears", newClient);
    const std::string seen = seenAfter ? Report::duration(*seenAfter) + " after indexd restarted"
                                       : "not within " + Report::duration(double(kSeenDeadline.count())) +
                                             (seenProblem.empty() ? "" : " (" + seenProblem + ")");
    report.figure("alice sees contact dave again", seen);
    report.figure("alice's peerd", alicePeerd.running() ? "running" : "exited");
    report.goal("peerd uses under 10% of a core while at its descriptor limit", cpu < 0.1 * seconds,
                Report::duration(cpu) + " in " + Report::duration(seconds));
    report.goal("a new client gets a welcome, or an error saying why not",
                newClient == "welcome" || newClient.rfind("error: ", 0) == 0, newClient);
    report.goal("peerd sees its contacts again after indexd restarts", seenAfter.has_value(), seen);
}

// Row 12: 200 local clients of alice's peerd subscribe to bob and never
// read, while bob sends alice a 2,000-byte line every 50-100 ms; a reading
// client asks for the roster every 500 ms.
void nonReadingClients(const StressContext& context, Report& report)
{
    constexpr std::size_t kIdle = 200;
    test::ChatNetwork net;
    net.startPeerd("alice");
    net.startPeerd("bob");
    DaemonWatch alice(net.peerd("alice"));
    auto reader = net.attachOnline("alice");
    const std::size_t residentBefore = alice.residentKiB();
    IdleConnections idle;
    const std::size_t connected = idle.openUnix(net.socketOf("alice"), kIdle, StressContext::Clock::now() + 10s);
    idle.sendToAll(test::peerRequest("subscribe", "bob"));
    ProbeChat stream(net, "bob", "alice", ProbeChat::Options{50ms, 100ms, 2000, false});

    bench::Samples rosterTimes;
    std::size_t rosterTimeouts = 0;
    stream.start();
    for (const auto end = context.floodEnd(); StressContext::Clock::now() < end && !StressContext::stopping();) {
        const auto asked = StressContext::Clock::now();
        reader->sendLine(R"({"op":"roster"})");
        if (reader->waitEvent("roster", 10s)) rosterTimes.add(StressContext::Clock::now() - asked);
        else ++rosterTimeouts;
        for (const auto next = asked + 500ms; StressContext::Clock::now() < next && StressContext::sleep(50ms);)
            alice.sample();
    }
    stream.finish(10s);
    alice.sample();
    const std::size_t closed = idle.closedByPeer();
    idle.closeAll();
    // What a peerd gives back, it gives back soon after.
    StressContext::sleep(3s);
    const std::size_t residentAfter = alice.residentKiB();

    const double slowest = rosterTimes.percentile(100) / 1e6;
    const double peakGrowth = double(alice.peakKiB()) - double(residentBefore);
    const double keptGrowth = double(residentAfter) - double(residentBefore);
    report.figure("idle clients subscribed", Report::count(connected) + " of " + std::to_string(kIdle) + ", " +
                                                 Report::count(closed) + " disconnected by peerd");
    report.figure("lines streamed to alice", Report::count(stream.sent()) + ", " + Report::count(stream.lost()) +
                                                 " lost, latency p50 " +
                                                 Report::duration(stream.latency().percentile(50) / 1e6));
    report.figure("alice's peerd RSS", std::to_string(residentBefore / 1024) + " MB before, " +
                                           std::to_string(alice.peakKiB() / 1024) + " MB at most, " +
                                           std::to_string(residentAfter / 1024) + " MB after they went");
    report.figure("roster reply time", "p50 " + Report::duration(rosterTimes.percentile(50) / 1e6) + ", max " +
                                           Report::duration(slowest) + ", " + std::to_string(rosterTimeouts) +
                                           " unanswered in 10 s");
    report.goal("a roster reply within 1 s", rosterTimeouts == 0 && slowest < 1, Report::duration(slowest));
    report.goal("RSS grows under 48 MB (32 MiB budget for queued events)", peakGrowth < 48 * 1024,
                std::to_string(static_cast<long>(peakGrowth / 1024)) + " MB");
    report.goal("RSS given back, to within 16 MB of before, once they go", keptGrowth < 16 * 1024,
                std::to_string(static_cast<long>(keptGrowth / 1024)) + " MB kept");
}

} // namespace

std::vector<Scenario> localScenarios()
{
    return {
        {10, "full-disk", "alice's database on a small tmpfs, filled while she sends, then freed", fullDisk},
        {11, "descriptor-limit", "alice's peerd at nofile 256 with 300 idle local clients, then an indexd restart",
         descriptorLimit},
        {12, "non-reading-clients", "200 local clients of alice's peerd that never read while bob's lines stream in",
         nonReadingClients},
    };
}

} // namespace peerchat::stress
