// Bulk chat throughput: LINES numbered lines written to alice's peerd local
// socket as a script would (requests written ahead while fewer than WINDOW
// lines are unacknowledged, replies read as they come) until bob's client has
// read them all, beside the same bytes through the same hops (Unix -> relay
// -> UDP -> relay -> Unix) moved by relays with batched syscalls, in the same
// run; then the same with 5 % of peerd's datagrams dropped, then one sender to
// ten peers at once. Every line must arrive exactly once and in order.
// See docs/PERFORMANCE.md.
#include "ChatNetwork.h"
#include "LineSocket.h"
#include "LoopbackUdp.h"

#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <thread>
#include <utility>
#include <unistd.h>
#include <vector>

using namespace peerchat;
using bench::LineSocket;
using Clock = std::chrono::steady_clock;

namespace {

// No byte from any socket for this long means the run is stuck.
constexpr auto kStall = std::chrono::seconds(30);
// The most request bytes built ahead of what alice's socket has taken:
// enough to fill it at every turn of the loop, and no window's worth of
// strings built at once.
constexpr std::size_t kPendingBytes = 64 * 1024;
// A reference datagram carries whole lines up to this size (a chat datagram
// that fits in any path's MTU).
constexpr std::size_t kDatagramBytes = 1200;
// Datagrams per sendmmsg/recvmmsg of the reference relays.
constexpr unsigned kBatch = 64;
constexpr std::string_view kTextPrefix = "throughput line ";

std::string lineText(long number)
{
    char text[48];
    std::snprintf(text, sizeof text, "%.*s%08ld", static_cast<int>(kTextPrefix.size()), kTextPrefix.data(), number);
    return text;
}

// The value of the string field key in a JSON line peerd printed, or empty
// when it has none; the fields read here hold no escapes.
std::string_view stringField(std::string_view line, std::string_view key)
{
    const std::string marker = "\"" + std::string(key) + "\":\"";
    const auto start = line.find(marker);
    if (start == std::string_view::npos) return {};
    const auto from = start + marker.size();
    const auto end = line.find('"', from);
    return end == std::string_view::npos ? std::string_view{} : line.substr(from, end - from);
}

// The value of the number field key in a JSON line peerd printed, or -1.
long numberField(std::string_view line, std::string_view key)
{
    const std::string marker = "\"" + std::string(key) + "\":";
    const auto start = line.find(marker);
    if (start == std::string_view::npos) return -1;
    return std::strtol(line.data() + start + marker.size(), nullptr, 10);
}

/// One conversation of a run: the lines alice's client sends to peer and the
/// client that reads them at the other end.
struct Flow
{
    Flow(std::string peerName, LineSocket& receiverSocket) : peer(std::move(peerName)), receiver(&receiverSocket) {}

    std::string peer;
    LineSocket* receiver;
    long sent = 0;      ///< send requests written
    long replies = 0;   ///< `sent` replies read (peerchat)
    long lastId = 0;    ///< the id of the last `sent` reply
    long received = 0;  ///< lines accounted for at the receiver: the next number it expects
    long lost = 0;      ///< numbers the receiver never got (the reference's UDP may drop)
    long acked = 0;     ///< distinct lines alice's client saw `delivered`
    std::vector<bool> delivered;  ///< by line id
    Clock::time_point receivedAll{};
    Clock::time_point ackedAll{};
};

/// What counts as acknowledged: peerd's `delivered` status on the sender's
/// socket, or, on the reference path, which has no acks, the line read at
/// the other end.
enum class Acks { FromPeerd, AtReceiver };

/// Drives a run: writes send requests for every flow, round robin, while
/// fewer than window lines of that flow are unacknowledged, and reads the
/// sender's replies and each receiver's lines as they come, checking that
/// each receiver gets every number once and in order.
class Pipeline
{
public:
    Pipeline(LineSocket& sender, std::vector<Flow>& flows, long window, Acks acks)
        : _sender(sender), _flows(flows), _window(window), _acks(acks)
    {
        for (std::size_t i = 0; i < _flows.size(); ++i) _byPeer[_flows[i].peer] = i;
    }

    /// Sends until every flow has count lines at its receiver and acknowledged,
    /// within limit; throws on a refusal, a lost, doubled or misordered line,
    /// a closed socket, kStall without progress, or at the limit.
    void run(long count, Clock::duration limit)
    {
        _count = count;
        const auto deadline = Clock::now() + limit;
        auto progress = Clock::now();
        auto delivering = progress;
        long deliveredBefore = delivered();
        _longestPause = {};
        std::string pending;
        std::vector<pollfd> fds{{_sender.fd(), POLLIN, 0}};
        for (const Flow& flow : _flows) fds.push_back({flow.receiver->fd(), POLLIN, 0});
        while (!finished()) {
            const auto now = Clock::now();
            if (now > deadline) throw std::runtime_error("the run did not finish in time: " + progressReport());
            if (now - progress > kStall) throw std::runtime_error("nothing moved for 30 s: " + progressReport());
            fill(pending);
            _sender.writeAvailable(pending);
            fds[0].events = static_cast<short>(POLLIN | (pending.empty() ? 0 : POLLOUT));
            if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
            bool read = false;
            if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                read = true;
                if (!_sender.readAvailable([&](std::string_view line) { onSenderLine(line); })) {
                    throw std::runtime_error("the sender's socket was closed: " + progressReport());
                }
            }
            for (std::size_t i = 0; i < _flows.size(); ++i) {
                if (!(fds[i + 1].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                read = true;
                Flow& flow = _flows[i];
                if (!flow.receiver->readAvailable([&](std::string_view line) { onReceiverLine(flow, line); })) {
                    throw std::runtime_error(flow.peer + "'s socket was closed: " + progressReport());
                }
            }
            if (!read) continue;
            progress = Clock::now();
            if (const long now = delivered(); now != deliveredBefore) {
                _longestPause = std::max(_longestPause, progress - delivering);
                delivering = progress;
                deliveredBefore = now;
            }
        }
    }

    /// The longest time in the last run() in which no receiver got a line:
    /// a stall, where the rate alone says only that the run was slower.
    Clock::duration longestPause() const { return _longestPause; }

    /// When the first flow had all the lines of the first run() at its
    /// receiver: the fewest any flow had then, and all flows' together.
    long slowestAtFirstFinish() const { return _slowestAtFirst; }
    long totalAtFirstFinish() const { return _totalAtFirst; }

private:
    long unacked(const Flow& flow) const
    {
        return flow.sent - (_acks == Acks::FromPeerd ? flow.acked : flow.received);
    }

    /// Lines all receivers have got.
    long delivered() const
    {
        long total = 0;
        for (const Flow& flow : _flows) total += flow.received;
        return total;
    }

    bool finished() const
    {
        for (const Flow& flow : _flows) {
            if (flow.received < _count || (_acks == Acks::FromPeerd && flow.acked < _count)) return false;
        }
        return true;
    }

    // Adds one request per flow that may send, round robin, so no flow gets
    // ahead of the others in alice's requests.
    void fill(std::string& pending)
    {
        bool added = true;
        while (added && pending.size() < kPendingBytes) {
            added = false;
            for (Flow& flow : _flows) {
                if (flow.sent >= _count || unacked(flow) >= _window) continue;
                pending += test::sendRequest(flow.peer, lineText(flow.sent)) + "\n";
                ++flow.sent;
                added = true;
            }
        }
    }

    void onSenderLine(std::string_view line)
    {
        const std::string_view event = stringField(line, "event");
        if (event == "error") throw std::runtime_error("peerd refused a send: " + std::string(line));
        if (event == "sent") {
            Flow& flow = flowOf(stringField(line, "to"), line);
            const long id = numberField(line, "id");
            if (id <= flow.lastId) throw std::runtime_error("a sent reply out of order: " + std::string(line));
            flow.lastId = id;
            ++flow.replies;
        } else if (event == "status" && stringField(line, "state") == "delivered") {
            Flow& flow = flowOf(stringField(line, "peer"), line);
            const long number = numberField(line, "id");
            if (number < 1) throw std::runtime_error("a status without a line id: " + std::string(line));
            const auto id = static_cast<std::size_t>(number);
            if (id >= flow.delivered.size()) flow.delivered.resize(id + 1 + flow.delivered.size());
            if (flow.delivered[id]) return;
            flow.delivered[id] = true;
            if (++flow.acked == _count) flow.ackedAll = Clock::now();
        }
    }

    void onReceiverLine(Flow& flow, std::string_view line)
    {
        const std::string_view text = stringField(line, "text");
        if (text.empty()) return;  // unread counts and other events
        if (text.substr(0, kTextPrefix.size()) != kTextPrefix) {
            throw std::runtime_error(flow.peer + " got a line that was not sent: " + std::string(line));
        }
        const long number = std::strtol(text.data() + kTextPrefix.size(), nullptr, 10);
        if (number < flow.received || (number > flow.received && _acks == Acks::FromPeerd)) {
            throw std::runtime_error(flow.peer + " got line " + std::to_string(number) + " where line " +
                                     std::to_string(flow.received) + " was due: a line lost, doubled or out of order");
        }
        flow.lost += number - flow.received;
        flow.received = number + 1;
        if (flow.received < _count) return;
        flow.receivedAll = Clock::now();
        if (_slowestAtFirst >= 0) return;
        _slowestAtFirst = flow.received;
        _totalAtFirst = 0;
        for (const Flow& other : _flows) {
            _slowestAtFirst = std::min(_slowestAtFirst, other.received);
            _totalAtFirst += other.received;
        }
    }

    Flow& flowOf(std::string_view peer, std::string_view line)
    {
        const auto found = _byPeer.find(std::string(peer));
        if (found == _byPeer.end()) throw std::runtime_error("an event about no peer of the run: " + std::string(line));
        return _flows[found->second];
    }

    std::string progressReport() const
    {
        std::string report;
        for (const Flow& flow : _flows) {
            report += flow.peer + " sent " + std::to_string(flow.sent) + ", received " + std::to_string(flow.received) +
                      ", acked " + std::to_string(flow.acked) + " of " + std::to_string(_count) + "; ";
        }
        return report;
    }

    LineSocket& _sender;
    std::vector<Flow>& _flows;
    std::map<std::string, std::size_t> _byPeer;
    long _window;
    Acks _acks;
    long _count = 0;
    long _slowestAtFirst = -1;
    long _totalAtFirst = 0;
    Clock::duration _longestPause{};
};

std::array<int, 2> streamPair()
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw std::runtime_error("no socketpair");
    return {fds[0], fds[1]};
}

/// The reference path: a Unix stream socket, a relay thread that packs whole
/// lines into datagrams of up to kDatagramBytes and sends them with
/// sendmmsg, UDP on loopback, a relay thread that takes them with recvmmsg
/// and writes each batch to a second Unix stream socket with one send.
class BatchedRelays
{
public:
    BatchedRelays()
    {
        // peerd asks for the same receive buffer (common/UdpChannel).
        const int bytes = 4 * 1024 * 1024;
        ::setsockopt(_in, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
        _toUdp = std::thread([this] { forwardToUdp(); });
        _toStream = std::thread([this] { forwardToStream(); });
    }

    ~BatchedRelays()
    {
        // Each shutdown ends one relay's blocking call, whatever state a
        // failed run left them in.
        ::shutdown(_sender.fd(), SHUT_RDWR);
        ::shutdown(_receiver.fd(), SHUT_RDWR);
        ::shutdown(_in, SHUT_RDWR);
        _toUdp.join();
        _toStream.join();
        for (const int fd : {_left[1], _right[1], _out, _in}) ::close(fd);
    }

    BatchedRelays(const BatchedRelays&) = delete;
    BatchedRelays& operator=(const BatchedRelays&) = delete;

    /// Where the client writes send requests, and where they come out.
    LineSocket& sender() { return _sender; }
    LineSocket& receiver() { return _receiver; }

private:
    void forwardToUdp()
    {
        std::vector<char> buffer(1 << 20);
        std::size_t held = 0;
        std::array<iovec, kBatch> parts{};
        std::array<mmsghdr, kBatch> datagrams{};
        for (unsigned i = 0; i < kBatch; ++i) {
            datagrams[i].msg_hdr.msg_name = &_inAddress;
            datagrams[i].msg_hdr.msg_namelen = sizeof _inAddress;
            datagrams[i].msg_hdr.msg_iov = &parts[i];
            datagrams[i].msg_hdr.msg_iovlen = 1;
        }
        while (true) {
            const ssize_t n = ::recv(_left[1], buffer.data() + held, buffer.size() - held, 0);
            if (n <= 0) break;
            held += static_cast<std::size_t>(n);
            std::size_t start = 0;
            unsigned count = 0;
            while (true) {
                // Whole lines only, as many as fit; a longer line goes alone.
                const std::size_t limit = std::min(held, start + kDatagramBytes);
                const void* newline = ::memrchr(buffer.data() + start, '\n', limit - start);
                if (newline == nullptr) newline = std::memchr(buffer.data() + start, '\n', held - start);
                if (newline == nullptr) break;
                const std::size_t end = static_cast<std::size_t>(static_cast<const char*>(newline) - buffer.data()) + 1;
                parts[count] = {buffer.data() + start, end - start};
                start = end;
                if (++count == kBatch) {
                    if (!sendAll(datagrams.data(), count)) return;
                    count = 0;
                }
            }
            if (!sendAll(datagrams.data(), count)) return;
            std::memmove(buffer.data(), buffer.data() + start, held - start);
            held -= start;
        }
        ::shutdown(_in, SHUT_RDWR);
    }

    bool sendAll(mmsghdr* datagrams, unsigned count)
    {
        for (unsigned done = 0; done < count;) {
            const int n = ::sendmmsg(_out, datagrams + done, count - done, 0);
            if (n <= 0) return false;
            done += static_cast<unsigned>(n);
        }
        return true;
    }

    void forwardToStream()
    {
        constexpr std::size_t kSlot = 65536;
        std::vector<char> slots(kBatch * kSlot);
        std::vector<char> batch(kBatch * kSlot);
        std::array<iovec, kBatch> parts{};
        std::array<mmsghdr, kBatch> datagrams{};
        for (unsigned i = 0; i < kBatch; ++i) {
            parts[i] = {slots.data() + i * kSlot, kSlot};
            datagrams[i].msg_hdr.msg_iov = &parts[i];
            datagrams[i].msg_hdr.msg_iovlen = 1;
        }
        while (true) {
            const int n = ::recvmmsg(_in, datagrams.data(), kBatch, MSG_WAITFORONE, nullptr);
            if (n <= 0) return;
            std::size_t size = 0;
            bool shutDown = false;
            for (int i = 0; i < n && !shutDown; ++i) {
                // An empty datagram is what recvmmsg reports after shutdown.
                shutDown = datagrams[i].msg_len == 0;
                std::memcpy(batch.data() + size, parts[i].iov_base, datagrams[i].msg_len);
                size += datagrams[i].msg_len;
            }
            for (std::size_t done = 0; done < size;) {
                const ssize_t sent = ::send(_right[1], batch.data() + done, size - done, MSG_NOSIGNAL);
                if (sent <= 0) return;
                done += static_cast<std::size_t>(sent);
            }
            if (shutDown) return;
        }
    }

    std::array<int, 2> _left = streamPair();
    std::array<int, 2> _right = streamPair();
    LineSocket _sender{_left[0]};
    LineSocket _receiver{_right[0]};
    sockaddr_in _outAddress{};
    sockaddr_in _inAddress{};
    int _out = bench::loopbackUdpSocket(_outAddress);
    int _in = bench::loopbackUdpSocket(_inAddress);
    std::thread _toUdp;
    std::thread _toStream;
};

/// indexd, alice's peerd and one peerd per receiver, all on loopback with
/// peerdFlags; a raw client on each local socket, alice's subscribed to
/// every receiver (for the `status` events), each receiver's to alice.
class ChatRun
{
public:
    ChatRun(const std::vector<std::string>& receivers, const std::vector<std::string>& peerdFlags)
    {
        _net.startPeerd("alice", peerdFlags);
        for (const std::string& name : receivers) _net.startPeerd(name, peerdFlags);
        _alice = std::make_unique<LineSocket>(LineSocket::connectUnix(_net.socketOf("alice")));
        waitLoggedIn(*_alice, "alice");
        for (const std::string& name : receivers) {
            auto client = std::make_unique<LineSocket>(LineSocket::connectUnix(_net.socketOf(name)));
            waitLoggedIn(*client, name);
            // Contacts, as two users make themselves: each adds the other.
            _alice->writeLine(R"({"op":"add","peer":")" + name + R"("})");
            client->writeLine(R"({"op":"add","peer":"alice"})");
            waitInRoster(*_alice, name);
            waitInRoster(*client, "alice");
            subscribe(*_alice, name);
            subscribe(*client, "alice");
            client->drain();
            _flows.emplace_back(name, *client);
            _receivers.push_back(std::move(client));
        }
        _alice->drain();
    }

    LineSocket& alice() { return *_alice; }
    std::vector<Flow>& flows() { return _flows; }
    test::DaemonProcess& peerd(const std::string& name) { return _net.peerd(name); }

private:
    static void waitLoggedIn(LineSocket& client, const std::string& name)
    {
        if (!client.waitLoggedIn(std::chrono::seconds(20))) throw std::runtime_error(name + "'s peerd did not log in");
    }

    static void waitInRoster(LineSocket& client, const std::string& name)
    {
        if (!client.waitOnline(name, std::chrono::seconds(20))) throw std::runtime_error(name + " never came online in a roster");
    }

    static void subscribe(LineSocket& client, const std::string& peer)
    {
        client.writeLine(test::peerRequest("subscribe", peer));
        if (!client.waitLine("\"event\":\"history\"", std::chrono::seconds(10))) {
            throw std::runtime_error("no history for a subscribe to " + peer);
        }
    }

    test::ChatNetwork _net;
    std::unique_ptr<LineSocket> _alice;
    std::vector<std::unique_ptr<LineSocket>> _receivers;
    std::vector<Flow> _flows;
};

/// The figures of one run.
struct Outcome
{
    double deliveredPerSecond = 0;  ///< all flows' lines over the time until the last was read
    double ackedPerSecond = 0;      ///< the same until the last was seen delivered (peerchat)
    long lost = 0;                  ///< lines the reference's UDP dropped
    double slowestShare = 0;        ///< the slowest flow's share of the lines when the first finished
    double senderMicrosPerLine = 0;     ///< alice's peerd's CPU time (user and system) per line
    double senderSystemMicrosPerLine = 0;  ///< of which in the kernel (system calls, mostly)
    double receiversMicrosPerLine = 0;  ///< the receiving peerds' together per line
    double receiversSystemMicrosPerLine = 0;  ///< of which in the kernel
    double senderPeakMiB = 0;           ///< alice's peerd's peak resident memory
    double receiverPeakMiB = 0;         ///< the largest peak of the receiving peerds
    double longestPauseMs = 0;          ///< the longest time in which no line arrived
};

// How long a run may take before it counts as stuck: generous, far above
// what today's peerd needs, but a bound.
Clock::duration runLimit(long lines)
{
    return std::chrono::seconds(60) + std::chrono::milliseconds(5) * lines;
}

double perSecond(long lines, Clock::time_point start, Clock::time_point end)
{
    return static_cast<double>(lines) / std::chrono::duration<double>(end - start).count();
}

// Fills the rates and the fairness of out from flows after a run of lines
// per flow that started at start.
void rates(const std::vector<Flow>& flows, const Pipeline& pipeline, long lines, Clock::time_point start, Outcome& out)
{
    Clock::time_point delivered = start;
    Clock::time_point acked = start;
    for (const Flow& flow : flows) {
        delivered = std::max(delivered, flow.receivedAll);
        acked = std::max(acked, flow.ackedAll);
        out.lost += flow.lost;
    }
    const long total = lines * static_cast<long>(flows.size());
    out.deliveredPerSecond = perSecond(total, start, delivered);
    out.ackedPerSecond = perSecond(total, start, acked);
    out.slowestShare =
        static_cast<double>(pipeline.slowestAtFirstFinish()) / static_cast<double>(pipeline.totalAtFirstFinish());
    out.longestPauseMs = std::chrono::duration<double, std::milli>(pipeline.longestPause()).count();
}

Outcome runReference(long lines, long window)
{
    BatchedRelays relays;
    std::vector<Flow> flows{Flow("bob", relays.receiver())};
    Pipeline pipeline(relays.sender(), flows, window, Acks::AtReceiver);
    const auto start = Clock::now();
    pipeline.run(lines, runLimit(lines));
    Outcome out;
    rates(flows, pipeline, lines, start, out);
    return out;
}

// A peerchat run: lines to each receiver, with peerdFlags on every peerd;
// after the timed lines, one more line to each receiver once every earlier
// one is acked, so a line doubled late (a retransmission after its ack)
// arrives before it and is caught.
Outcome runPeerchat(const std::vector<std::string>& receivers, long lines, long window,
                    const std::vector<std::string>& peerdFlags)
{
    ChatRun chat(receivers, peerdFlags);
    std::vector<std::string> names{"alice"};
    names.insert(names.end(), receivers.begin(), receivers.end());
    std::vector<test::DaemonProcess::CpuTimes> cpuBefore;
    for (const std::string& name : names) cpuBefore.push_back(chat.peerd(name).cpuTimes());

    Pipeline pipeline(chat.alice(), chat.flows(), window, Acks::FromPeerd);
    const auto start = Clock::now();
    pipeline.run(lines, runLimit(lines * static_cast<long>(receivers.size())));
    Outcome out;
    rates(chat.flows(), pipeline, lines, start, out);
    const double total = static_cast<double>(lines) * static_cast<double>(receivers.size());
    for (std::size_t i = 0; i < names.size(); ++i) {
        test::DaemonProcess& peerd = chat.peerd(names[i]);
        const test::DaemonProcess::CpuTimes cpu = peerd.cpuTimes();
        const auto perLine = [&](std::chrono::milliseconds spent) {
            return std::chrono::duration<double, std::micro>(spent).count() / total;
        };
        const double micros = perLine(cpu.user + cpu.system - cpuBefore[i].user - cpuBefore[i].system);
        const double systemMicros = perLine(cpu.system - cpuBefore[i].system);
        const double peakMiB = static_cast<double>(peerd.peakResidentKiB()) / 1024.0;
        if (i == 0) {
            out.senderMicrosPerLine = micros;
            out.senderSystemMicrosPerLine = systemMicros;
            out.senderPeakMiB = peakMiB;
        } else {
            out.receiversMicrosPerLine += micros;
            out.receiversSystemMicrosPerLine += systemMicros;
            out.receiverPeakMiB = std::max(out.receiverPeakMiB, peakMiB);
        }
    }
    pipeline.run(lines + 1, kStall);
    for (const Flow& flow : chat.flows()) {
        if (flow.replies != lines + 1) {
            throw std::runtime_error("alice's client got " + std::to_string(flow.replies) + " sent replies for " +
                                     std::to_string(lines + 1) + " sends to " + flow.peer);
        }
    }
    return out;
}

void printPeerds(const Outcome& out, const std::string& receivers)
{
    std::printf("    peerd CPU per line (utime+stime): alice %.0f us, %s %.0f us; of which in the kernel (stime): "
                "%.1f and %.1f us\n",
                out.senderMicrosPerLine, receivers.c_str(), out.receiversMicrosPerLine, out.senderSystemMicrosPerLine,
                out.receiversSystemMicrosPerLine);
    std::printf("    peerd peak RSS (VmHWM): alice %.1f MiB, %s %.1f MiB\n", out.senderPeakMiB,
                receivers == "bob" ? "bob" : "largest receiver", out.receiverPeakMiB);
    std::printf("    longest pause in delivery (no line arrived): %.0f ms\n", out.longestPauseMs);
}

// The run with the median rate (of two, the faster).
Outcome median(std::vector<Outcome> runs)
{
    std::sort(runs.begin(), runs.end(),
              [](const Outcome& a, const Outcome& b) { return a.deliveredPerSecond > b.deliveredPerSecond; });
    return runs[(runs.size() - 1) / 2];
}

// Each run's rate, in the order they ran.
std::string rateList(const std::vector<Outcome>& runs)
{
    std::string list;
    for (const Outcome& run : runs) {
        list += (list.empty() ? "" : ", ") + std::to_string(static_cast<long>(run.deliveredPerSecond));
    }
    return list;
}

long argumentOr(int argc, char** argv, int index, long fallback)
{
    return argc > index ? std::atol(argv[index]) : fallback;
}

} // namespace

int main(int argc, char** argv)
{
    std::signal(SIGPIPE, SIG_IGN);
    const long lines = argumentOr(argc, argv, 1, 100000);
    const long window = argumentOr(argc, argv, 2, 9999);
    const long peers = 10;
    if (lines < peers || window < 1 || window >= 10000) {
        std::fprintf(stderr, "usage: ThroughputBench [LINES [WINDOW]]  (LINES >= %ld, default 100000; "
                             "1 <= WINDOW < 10000, default 9999)\n", peers);
        return 2;
    }
    try {
        std::printf("bulk throughput, %ld lines, at most %ld unacknowledged per peer:\n", lines, window);
        // The reference and peerchat's lossless run take turns, kTurns times,
        // and each figure is the median of its own runs: this VM runs a
        // stretch of time faster or slower, and in turns both see the same
        // stretches. (The best of three references against one peerchat run
        // after them let a slow stretch of the reference decide: one build
        // gave 0.0512, 0.0523 and 0.1039 in three runs.)
        constexpr int kTurns = 3;
        std::vector<Outcome> references;
        std::vector<Outcome> chats;
        for (int turn = 0; turn < kTurns; ++turn) {
            const Outcome reference = runReference(lines, window);
            if (reference.lost > 0) {
                std::printf("  (a reference run lost %ld lines in UDP: not counted)\n", reference.lost);
            } else {
                references.push_back(reference);
            }
            chats.push_back(runPeerchat({"bob"}, lines, window, {}));
        }
        if (references.empty()) throw std::runtime_error("every reference run lost lines in UDP");
        const Outcome plain = median(references);
        const Outcome chat = median(chats);
        std::printf("  plain relays, batched (unix-udp-unix):   %10.0f lines/s   (median of %s)\n",
                    plain.deliveredPerSecond, rateList(references).c_str());
        std::printf("  peerchat, delivered (bob's client read all): %6.0f lines/s   ratio to plain %.4f   (median of %s)\n",
                    chat.deliveredPerSecond, chat.deliveredPerSecond / plain.deliveredPerSecond, rateList(chats).c_str());
        std::printf("  peerchat, acked (alice's client saw all delivered): %6.0f lines/s   ratio to plain %.4f\n",
                    chat.ackedPerSecond, chat.ackedPerSecond / plain.deliveredPerSecond);
        printPeerds(chat, "bob");
        std::fflush(stdout);

        const Outcome lossy = runPeerchat({"bob"}, lines, window, {"--faults", "drop=0.05,seed=12"});
        std::printf("  peerchat, 5%% of datagrams dropped by both peerds: delivered %.0f lines/s, acked %.0f lines/s\n"
                    "    goodput ratio to lossless %.3f, to plain %.4f\n",
                    lossy.deliveredPerSecond, lossy.ackedPerSecond, lossy.deliveredPerSecond / chat.deliveredPerSecond,
                    lossy.deliveredPerSecond / plain.deliveredPerSecond);
        printPeerds(lossy, "bob");
        std::fflush(stdout);

        std::vector<std::string> receivers;
        for (long i = 0; i < peers; ++i) receivers.push_back("bob" + std::to_string(i));
        const Outcome many = runPeerchat(receivers, lines / peers, window, {});
        std::printf("  peerchat, alice to %ld peers at once, %ld lines each: delivered %.0f lines/s in all, "
                    "acked %.0f lines/s; ratio to plain %.4f\n",
                    peers, lines / peers, many.deliveredPerSecond, many.ackedPerSecond,
                    many.deliveredPerSecond / plain.deliveredPerSecond);
        std::printf("    fairness: when the first peer had all its lines, the slowest peer had %.1f %% of all lines "
                    "delivered by then (%.1f %% is fair)\n",
                    100.0 * many.slowestShare, 100.0 / static_cast<double>(peers));
        printPeerds(many, "bob0..bob9 together");
        return 0;
    } catch (const std::exception& e) {
        // The daemons' helpers fail with CppUnit::Exception, a std::exception too.
        std::fprintf(stderr, "ThroughputBench failed: %s\n", e.what());
        return 1;
    }
}
