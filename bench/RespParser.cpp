#include "RespParser.h"

#include <algorithm>
#include <charconv>
#include <utility>

namespace peerchat::bench {

namespace {

using Value = RespParser::Value;
using Status = RespParser::Status;

struct Outcome
{
    Status status = Status::Incomplete;
    std::size_t consumed = 0;
    std::string reason;  ///< why the bytes are not RESP, when Malformed
};

// Longer than any reply or push these connections get, and short enough that a
// corrupt length fails at once instead of waiting for bytes that never come.
constexpr long long largestBulk = 1 << 20;

Outcome malformed(std::string reason)
{
    return Outcome{Status::Malformed, 0, std::move(reason)};
}

bool parseInteger(std::string_view text, long long& value)
{
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
}

// Parses the value at the front of bytes into value (an array's header only:
// its length); a nested array is refused, since Redis sends none here.
Outcome parseValue(std::string_view bytes, Value& value, bool topLevel)
{
    const std::size_t lineEnd = bytes.find("\r\n");
    if (lineEnd == std::string_view::npos) return Outcome{};
    if (lineEnd == 0) return malformed("an empty line");
    const std::string_view line = bytes.substr(1, lineEnd - 1);
    std::size_t consumed = lineEnd + 2;
    switch (bytes[0]) {
    case '+':
        value.type = Value::Type::Simple;
        value.text = line;
        break;
    case '-':
        value.type = Value::Type::Error;
        value.text = line;
        break;
    case ':':
        value.type = Value::Type::Integer;
        if (!parseInteger(line, value.integer)) return malformed("an integer \"" + std::string(line) + "\"");
        break;
    case '$': {
        long long length = 0;
        if (!parseInteger(line, length) || length < -1 || length > largestBulk)
            return malformed("a bulk string of length \"" + std::string(line) + "\"");
        if (length == -1) {
            value.type = Value::Type::Null;
            break;
        }
        const auto size = static_cast<std::size_t>(length);
        if (bytes.size() < consumed + size + 2) return Outcome{};
        if (bytes.substr(consumed + size, 2) != "\r\n") return malformed("a bulk string longer than its length");
        value.type = Value::Type::Bulk;
        value.text = bytes.substr(consumed, size);
        consumed += size + 2;
        break;
    }
    case '*': {
        long long length = 0;
        if (!topLevel) return malformed("a nested array");
        if (!parseInteger(line, length) || length < -1 || length > 4)
            return malformed("an array of \"" + std::string(line) + "\" elements");
        value.type = length == -1 ? Value::Type::Null : Value::Type::Array;
        value.integer = std::max(length, 0LL);
        break;
    }
    default:
        return malformed("a frame starting with byte " + std::to_string(static_cast<unsigned char>(bytes[0])));
    }
    return Outcome{Status::Complete, consumed, {}};
}

// Parses the frame at the front of bytes; Incomplete until all of it has come.
Outcome parseFrame(std::string_view bytes, RespParser::Frame& frame)
{
    Outcome head = parseValue(bytes, frame.head, true);
    if (head.status != Status::Complete || frame.head.type != Value::Type::Array) return head;
    std::size_t consumed = head.consumed;
    for (std::size_t i = 0; i < static_cast<std::size_t>(frame.head.integer); ++i) {
        Outcome item = parseValue(bytes.substr(consumed), frame.items[i], false);
        if (item.status != Status::Complete) return item;
        consumed += item.consumed;
    }
    return Outcome{Status::Complete, consumed, {}};
}

std::string describeValue(const Value& value)
{
    switch (value.type) {
    case Value::Type::Simple: return "+" + std::string(value.text);
    case Value::Type::Error: return "error \"" + std::string(value.text) + "\"";
    case Value::Type::Integer: return std::to_string(value.integer);
    case Value::Type::Bulk: return "\"" + std::string(value.text) + "\"";
    case Value::Type::Null: return "null";
    case Value::Type::Array: return "array";
    }
    return "?";
}

} // namespace

bool RespParser::Frame::isPush(std::string_view kind, Value::Type third) const
{
    return head.type == Value::Type::Array && head.integer == 3 && items[0].type == Value::Type::Bulk
        && items[0].text == kind && items[1].type == Value::Type::Bulk && items[2].type == third;
}

std::string RespParser::Frame::describe() const
{
    if (head.type != Value::Type::Array) return describeValue(head);
    std::string text = "[";
    for (std::size_t i = 0; i < static_cast<std::size_t>(head.integer); ++i)
        text += (i > 0 ? ", " : "") + describeValue(items[i]);
    return text + "]";
}

void RespParser::feed(std::string_view bytes)
{
    if (_parsing) keepRest();
    if (_tail.empty()) {
        _bytes = bytes;
    } else {
        _tail.append(bytes);
        _bytes = _tail;
    }
    _used = 0;
    _parsing = true;
}

RespParser::Status RespParser::next(Frame& frame)
{
    if (!_reason.empty()) return Status::Malformed;
    if (!_parsing) return Status::Incomplete;
    Outcome outcome = parseFrame(_bytes.substr(_used), frame);
    switch (outcome.status) {
    case Status::Complete:
        _used += outcome.consumed;
        break;
    case Status::Incomplete:
        keepRest();
        break;
    case Status::Malformed:
        _reason = std::move(outcome.reason);
        break;
    }
    return outcome.status;
}

void RespParser::reset()
{
    _bytes = {};
    _used = 0;
    _parsing = false;
    std::string().swap(_tail);
    _reason.clear();
}

void RespParser::keepRest()
{
    // A new string of the rest's size, rather than _tail trimmed in place: a
    // tail that once held a whole read would keep that capacity for good.
    std::string rest(_bytes.substr(_used));
    _tail.swap(rest);
    _bytes = {};
    _used = 0;
    _parsing = false;
}

} // namespace peerchat::bench
