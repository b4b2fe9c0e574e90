// Rows 4, 5 and 6 of issue 9: garbage and oversize datagrams at indexd's or
// a peerd's UDP port at the highest rate one core sends, while two real
// users, alice and bob, exchange a probe line every 100-200 ms.
#include "DaemonWatch.h"
#include "PacketCapture.h"
#include "ProbeChat.h"
#include "RawFlooder.h"
#include "Scenario.h"

#include <Poco/Net/DatagramSocket.h>

using namespace std::chrono_literals;

namespace peerchat::stress {

namespace {

// A bound of the issue: at most this much log per 30 s of flood, at either daemon.
constexpr double kLogBytesPer30s = 5e6;
// After the flood, how long the probes still on their way may take (peerd
// resends an unacked line after 0.3 s, doubling up to 8 s).
constexpr auto kProbeGrace = 15s;
// The payload of a datagram too large for any daemon (Protocol::kMaxDatagramBytes is 8,704).
constexpr std::size_t kOversizeBytes = 60000;

// Floods the daemon `target` ("indexd", or a peerd: "alice", "bob") with the
// flood planMaker gives for the network, while alice and bob send probes;
// reports the flood, the target's log growth and memory, the probes and any
// expiry of alice or bob.
void floodWithProbes(const StressContext& context, Report& report, const std::string& target,
                     const std::function<RawFlooder::Plan(test::ChatNetwork&)>& planMaker)
{
    test::ChatNetwork net;
    net.startPeerd("alice");
    net.startPeerd("bob");
    ProbeChat probes(net, "alice", "bob", ProbeChat::Options{});
    DaemonWatch indexd(net.indexd());
    DaemonWatch watched(target == "indexd" ? net.indexd() : net.peerd(target));
    const std::uint64_t logBefore = watched.logBytes();
    const std::size_t expiriesBefore = indexd.countInLog("not heard from");
    const std::size_t residentBefore = watched.residentKiB();
    const int port = test::PacketCapture::portOf(target == "indexd" ? net.index() : net.udpOf(target));
    const std::uint64_t dropsBefore = DaemonWatch::udpDrops(port);

    probes.start();
    RawFlooder::Plan plan = planMaker(net);
    plan.duration = context.flood();
    RawFlooder flood(plan);
    for (const auto end = context.floodEnd(); StressContext::Clock::now() < end && StressContext::sleep(200ms);)
        watched.sample();
    flood.wait();
    watched.sample();
    const std::uint64_t logGrowth = watched.logBytes() - logBefore;
    const std::uint64_t drops = DaemonWatch::udpDrops(port) - dropsBefore;
    probes.finish(kProbeGrace);
    const std::size_t expiries = indexd.countInLog("not heard from") - expiriesBefore;

    report.figure("flood", Report::count(flood.sent()) + " datagrams, " + Report::megabytes(double(flood.sentBytes())) +
                               " in " + Report::duration(flood.seconds()));
    report.figure("flood rate", Report::count(std::uint64_t(flood.rate())) + " datagrams/s");
    if (!flood.error().empty()) report.figure("flood stopped early", flood.error());
    report.figure("dropped by the kernel at " + target + "'s socket", Report::count(drops) + " (its buffer was full)");
    report.figure(target + " log growth", Report::megabytesPer30s(double(logGrowth), flood.seconds()));
    report.figure(target + " RSS", std::to_string(residentBefore / 1024) + " MB before, " +
                                       std::to_string(watched.peakKiB() / 1024) + " MB at most");
    auto& latency = probes.latency();
    report.figure("probes", Report::count(probes.sent()) + " sent, " + Report::count(probes.lost()) + " lost");
    report.figure("probe latency", "p50 " + Report::duration(latency.percentile(50) / 1e6) + ", p99 " +
                                       Report::duration(latency.percentile(99) / 1e6) + ", max " +
                                       Report::duration(latency.percentile(100) / 1e6));
    report.figure("users expired", std::to_string(probes.offlineEvents()) + " offline events at the peerds, " +
                                       std::to_string(expiries) + " expiries in indexd's log");
    const double logPer30s = StressContext::per30s(double(logGrowth), flood.seconds());
    report.bound("log growth under 5 MB per 30 s of flood at " + target, logPer30s < kLogBytesPer30s,
                 Report::megabytes(logPer30s) + " per 30 s");
    report.bound("no real user expired", probes.offlineEvents() == 0 && expiries == 0,
                 std::to_string(probes.offlineEvents()) + " offline events, " + std::to_string(expiries) +
                     " expiries logged");
    report.bound("every probe line delivered", probes.lost() == 0 && probes.sent() > 0,
                 std::to_string(probes.lost()) + " of " + std::to_string(probes.sent()) + " lost");
}

void garbageAtIndexd(const StressContext& context, Report& report)
{
    floodWithProbes(context, report, "indexd", [](test::ChatNetwork& net) {
        RawFlooder::Plan plan;
        plan.target = net.index();
        plan.payloads = RawFlooder::garbage(64, 200);
        return plan;
    });
}

void oversizeAtIndexd(const StressContext& context, Report& report)
{
    // The attacker's own address: a socket holds the port, so nothing answers it unreachable.
    Poco::Net::DatagramSocket attacker(Poco::Net::SocketAddress("127.0.0.2", 0), false);
    floodWithProbes(context, report, "indexd", [&](test::ChatNetwork& net) {
        RawFlooder::Plan plan;
        plan.target = net.index();
        plan.source = attacker.address().toString();
        plan.payloads = RawFlooder::garbage(1, kOversizeBytes);
        return plan;
    });
}

void garbageAtPeerd(const StressContext& context, Report& report)
{
    floodWithProbes(context, report, "bob", [](test::ChatNetwork& net) {
        RawFlooder::Plan plan;
        plan.target = net.udpOf("bob");
        // One datagram in 16 oversize.
        plan.payloads = RawFlooder::garbage(15, 200);
        plan.payloads.push_back(RawFlooder::garbage(1, kOversizeBytes).front());
        return plan;
    });
}

} // namespace

std::vector<Scenario> floodScenarios()
{
    return {
        {4, "garbage-indexd", "random 200-byte garbage from random forged sources at indexd, as fast as one core sends",
         garbageAtIndexd},
        {5, "oversize-indexd", "60 kB datagrams from one source at indexd, as fast as one core sends",
         oversizeAtIndexd},
        {6, "garbage-peerd",
         "garbage (and one 60 kB datagram in 16) from random forged sources at bob's peerd, as fast as one core sends",
         garbageAtPeerd},
    };
}

} // namespace peerchat::stress
