#include "ProbeChat.h"

#include "StressContext.h"

#include <random>
#include <stdexcept>

namespace peerchat::stress {

namespace {

const std::string kProbe = "probe ";

bool isEvent(const test::LocalClient::Object& event, const std::string& name)
{
    return event->optValue<std::string>("event", "") == name;
}

} // namespace

ProbeChat::ProbeChat(test::ChatNetwork& net, std::string a, std::string b, Options options)
    : _options(options), _a{a, net.attachOnline(a)}, _b{b, net.attachOnline(b)}
{
    if (!test::befriend(*_a.client, a, *_b.client, b))
        throw std::runtime_error(a + " and " + b + " do not see each other online");
    test::subscribeTo(*_a.client, b);
    test::subscribeTo(*_b.client, a);
}

ProbeChat::~ProbeChat()
{
    _stop = true;
    if (_thread.joinable()) _thread.join();
}

void ProbeChat::start()
{
    _thread = std::thread([this] { run(); });
}

void ProbeChat::finish(std::chrono::milliseconds grace)
{
    _graceEnd = std::chrono::steady_clock::now() + grace;
    _finishing = true;
    if (_thread.joinable()) _thread.join();
}

void ProbeChat::run()
{
    std::mt19937 random(std::random_device{}());
    std::uniform_int_distribution<long> interval(_options.minInterval.count(), _options.maxInterval.count());
    auto nextSend = std::chrono::steady_clock::now();
    bool fromA = true;
    while (!_stop && !StressContext::stopping()) {
        const auto now = std::chrono::steady_clock::now();
        if (_finishing) {
            if (_sentAt.empty() || now >= _graceEnd) break;
        } else if (now >= nextSend) {
            if (fromA) sendProbe(_a, _b);
            else sendProbe(_b, _a);
            fromA = !_options.bothWays || !fromA;
            nextSend = now + std::chrono::milliseconds(interval(random));
        }
        pump(_a);
        pump(_b);
    }
}

void ProbeChat::sendProbe(Side& from, const Side& to)
{
    std::string text = kProbe + std::to_string(_next) + " ";
    if (text.size() < _options.textBytes) text.append(_options.textBytes - text.size(), 'x');
    _sentAt[_next++] = std::chrono::steady_clock::now();
    from.client->sendLine(test::sendRequest(to.name, text));
}

// Takes every event that has arrived at side (waiting a little for the first).
void ProbeChat::pump(Side& side)
{
    const auto any = [](const test::LocalClient::Object&) { return true; };
    for (auto event = side.client->waitFor(any, std::chrono::milliseconds(2)); event;
         event = side.client->waitFor(any, std::chrono::milliseconds(0))) {
        if (isEvent(event, "message")) {
            const auto line = event->getObject("line");
            const std::string text = line->getValue<std::string>("text");
            if (line->getValue<bool>("outgoing") || text.compare(0, kProbe.size(), kProbe) != 0) continue;
            const auto probe = _sentAt.find(std::stoull(text.substr(kProbe.size())));
            if (probe == _sentAt.end()) continue;
            _latency.add(std::chrono::steady_clock::now() - probe->second);
            _sentAt.erase(probe);
        } else if (isEvent(event, "presence") && !event->getValue<bool>("online")) {
            const std::string who = event->getObject("user")->getValue<std::string>("name");
            _offlineEvents += who == _a.name || who == _b.name;
        }
    }
}

} // namespace peerchat::stress
