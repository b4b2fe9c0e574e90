#include "MailCarrier.h"

#include <Poco/Logger.h>

namespace peerchat {

namespace {

Poco::Logger& logger() { return Poco::Logger::get("MailCarrier"); }

} // namespace

MailCarrier::MailCarrier(Mailbox& mailbox, const Directory& directory, DatagramSink& sink,
                         std::chrono::milliseconds redeliverEvery)
    : _mailbox(mailbox), _directory(directory), _sink(sink), _redeliverEvery(redeliverEvery)
{
}

void MailCarrier::handleStore(const Store& store, const Endpoint& source, TimePoint now)
{
    // Only the sender itself may hand in its lines: a store names its FROM.
    if (!peerchatUserAt(store.msg.from, source)) {
        logger().debug("dropped store from %s: %s is not a peerchat user online there", source.toString(),
                       store.msg.from);
        return;
    }
    const Stored receipt{store.to, store.msg.stream, store.msg.seq};
    switch (_mailbox.store(store.to, store.msg)) {
    case Mailbox::StoreResult::Full:
        logger().information("refused a line from %s for %s: %s's mailbox is full", store.msg.from, store.to,
                             store.to);
        _sink.sendTo(Protocol::encode(Full{store.to, store.msg.stream, store.msg.seq}), source);
        return;
    case Mailbox::StoreResult::Duplicate:
        logger().debug("store %s,%s,%?u for %s again: already held", store.msg.from, store.msg.stream,
                       store.msg.seq, store.to);
        _sink.sendTo(Protocol::encode(receipt), source);
        return;
    case Mailbox::StoreResult::Stored:
        logger().debug("stored %s,%s,%?u for %s", store.msg.from, store.msg.stream, store.msg.seq, store.to);
        _sink.sendTo(Protocol::encode(receipt), source);
        // The sender may not have seen the recipient's login yet.
        if (const OnlineUser* recipient = _directory.find(store.to);
            recipient && recipient->dialect == Dialect::Peerchat) {
            send(store.msg, *recipient);
            if (_dueAt.count(store.to) == 0) scheduleResend(store.to, now);
        }
        return;
    }
}

void MailCarrier::handleAck(const Ack& ack, const Endpoint& source)
{
    if (!peerchatUserAt(ack.from, source)) {
        logger().debug("dropped ack from %s: %s is not a peerchat user online there", source.toString(), ack.from);
        return;
    }
    const std::size_t removed = _mailbox.acknowledge(ack.from, ack.stream, ack.seq);
    logger().debug("ack %s,%s,%?u: %z lines delivered", ack.from, ack.stream, ack.seq, removed);
    if (_mailbox.countFor(ack.from) == 0) _dueAt.erase(ack.from);
}

void MailCarrier::deliverTo(const std::string& name, TimePoint now)
{
    const OnlineUser* recipient = _directory.find(name);
    if (!recipient || recipient->dialect != Dialect::Peerchat) return;
    if (_mailbox.countFor(name) == 0) {
        _dueAt.erase(name);
        return;
    }
    sendWaiting(*recipient);
    scheduleResend(name, now);
}

void MailCarrier::redeliverDue(TimePoint now)
{
    while (!_queue.empty() && _queue.front().first <= now) {
        const auto [due, name] = std::move(_queue.front());
        _queue.pop_front();
        auto it = _dueAt.find(name);
        if (it == _dueAt.end() || it->second != due) continue;
        _dueAt.erase(it);
        deliverTo(name, now);
    }
}

const OnlineUser* MailCarrier::peerchatUserAt(const std::string& name, const Endpoint& source) const
{
    const OnlineUser* user = _directory.find(name);
    if (!user || user->dialect != Dialect::Peerchat || user->endpoint != source) return nullptr;
    return user;
}

void MailCarrier::send(const Msg& line, const OnlineUser& recipient)
{
    _sink.sendTo(Protocol::encode(line), recipient.endpoint);
}

void MailCarrier::sendWaiting(const OnlineUser& recipient)
{
    const auto lines = _mailbox.waitingFor(recipient.name);
    logger().debug("sending %z waiting lines to %s at %s", lines.size(), recipient.name,
                   recipient.endpoint.toString());
    for (const auto& line : lines) send(line, recipient);
}

void MailCarrier::scheduleResend(const std::string& name, TimePoint now)
{
    const TimePoint due = now + _redeliverEvery;
    _dueAt[name] = due;
    _queue.emplace_back(due, name);
}

} // namespace peerchat
