// Time to the first delivered line between two users who just logged in, in
// the NAT lab (tests/support/NetLab, as root): from the send on alice's local
// socket to bob's ack at alice's peerd, for peers behind two cone NATs
// (found by punching through indexd), on one LAN behind a router that does
// not hairpin, behind two symmetric NATs (through the TURN relay, coturn in
// pub, after punching found nothing), and, as the reference in the same run, on one flat segment
// with no NAT (pub). The median of TRIALS trials each (default 20), with new
// users each trial. See docs/PERFORMANCE.md.
#include "BenchStats.h"
#include "LabChat.h"

#include <cppunit/Exception.h>

#include <cstdio>
#include <cstdlib>
#include <string>

using namespace peerchat;
using namespace peerchat::test;
using Host = NetLab::Host;

namespace {

bench::Samples measure(LabChat& chat, const std::string& tag, Host from, Host to, int trials)
{
    bench::Samples samples;
    for (int trial = 1; trial <= trials; ++trial) {
        const std::string a = tag + "a" + std::to_string(trial), b = tag + "b" + std::to_string(trial);
        chat.start(a, from);
        chat.start(b, to);
        chat.befriend({a, b});
        samples.add(chat.deliver(a, b, "first", std::chrono::seconds(10)));
        chat.stop(a);
        chat.stop(b);
    }
    return samples;
}

} // namespace

int main(int argc, char** argv)
{
    const int trials = argc > 1 ? std::atoi(argv[1]) : 20;
    if (trials < 1) {
        std::fprintf(stderr, "usage: FirstLineBench [TRIALS]  (TRIALS >= 1, default 20)\n");
        return 2;
    }
    try {
        LabChat chat;
        bench::Samples flat = measure(chat, "f", Host::Pub, Host::Pub, trials);
        bench::Samples cone = measure(chat, "c", Host::Alice, Host::Bob, trials);
        bench::Samples lan = measure(chat, "l", Host::Alice, Host::Carol, trials);
        chat.lab().setNat({NetLab::NatMode::Symmetric, NetLab::NatMode::Symmetric, true});
        bench::Samples relay = measure(chat, "r", Host::Alice, Host::Bob, trials);
        std::printf("time to the first delivered line, new users each trial (%d trials each)\n", trials);
        bench::printLatency("flat segment, no NAT (reference)", flat);
        bench::printLatency("two cone NATs (punched)", cone);
        bench::printLatency("one LAN behind a NAT (punched)", lan);
        bench::printLatency("two symmetric NATs (relayed)", relay);
        std::printf("  median ratio to the reference: cone/cone %.1fx, LAN %.1fx, relayed %.1fx\n",
                    cone.percentile(50) / flat.percentile(50), lan.percentile(50) / flat.percentile(50),
                    relay.percentile(50) / flat.percentile(50));
    } catch (const CppUnit::Exception& e) {
        std::fprintf(stderr, "FirstLineBench: %s\n", e.what());
        return 1;
    }
    return 0;
}
