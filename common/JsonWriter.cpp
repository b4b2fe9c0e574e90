#include "JsonWriter.h"

namespace peerchat {

void JsonWriter::open(char bracket)
{
    separate();
    _out += bracket;
    _empty.push_back(true);
}

void JsonWriter::close(char bracket)
{
    _out += bracket;
    _empty.pop_back();
}

void JsonWriter::separate()
{
    if (_afterKey) {
        _afterKey = false;
        return;
    }
    if (_empty.empty()) return;
    if (!_empty.back()) _out += ',';
    _empty.back() = false;
}

void JsonWriter::key(std::string_view name)
{
    separate();
    quoted(name);
    _out += ':';
    _afterKey = true;
}

void JsonWriter::value(std::string_view text)
{
    separate();
    quoted(text);
}

void JsonWriter::value(bool flag)
{
    separate();
    _out += flag ? "true" : "false";
}

void JsonWriter::quoted(std::string_view text)
{
    static constexpr char kHex[] = "0123456789ABCDEF";
    _out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '"': _out += "\\\""; break;
        case '\\': _out += "\\\\"; break;
        case '\b': _out += "\\b"; break;
        case '\f': _out += "\\f"; break;
        case '\n': _out += "\\n"; break;
        case '\r': _out += "\\r"; break;
        case '\t': _out += "\\t"; break;
        default:
            if (byte < 0x20) {
                _out += "\\u00";
                _out += kHex[byte >> 4];
                _out += kHex[byte & 0xF];
            } else {
                _out += c;
            }
        }
    }
    _out += '"';
}

std::string JsonWriter::line() &&
{
    _out += '\n';
    return std::move(_out);
}

} // namespace peerchat
