#include "FlatJson.h"

#include <algorithm>

namespace peerchat {

namespace {

/// A cursor over the text; every read returns false where the text is not
/// what a flat object of strings would hold there.
class Reader
{
public:
    explicit Reader(std::string_view text) : _text(text) {}

    void skipSpace()
    {
        while (_at < _text.size() && (_text[_at] == ' ' || _text[_at] == '\t' || _text[_at] == '\n' || _text[_at] == '\r'))
            ++_at;
    }

    bool take(char c)
    {
        skipSpace();
        if (_at >= _text.size() || _text[_at] != c) return false;
        ++_at;
        return true;
    }

    bool atEnd()
    {
        skipSpace();
        return _at == _text.size();
    }

    bool string(std::string& out)
    {
        if (!take('"')) return false;
        out.clear();
        while (_at < _text.size()) {
            // The plain run up to the next quote, escape or control character, in one append.
            const std::size_t start = _at;
            while (_at < _text.size() && _text[_at] != '"' && _text[_at] != '\\' &&
                   static_cast<unsigned char>(_text[_at]) >= 0x20)
                ++_at;
            out.append(_text, start, _at - start);
            if (_at >= _text.size()) return false;
            const char c = _text[_at++];
            if (c == '"') return true;
            if (c != '\\' || !escape(out)) return false;
        }
        return false;
    }

private:
    bool escape(std::string& out)
    {
        if (_at >= _text.size()) return false;
        switch (_text[_at++]) {
        case '"': out.push_back('"'); return true;
        case '\\': out.push_back('\\'); return true;
        case '/': out.push_back('/'); return true;
        case 'b': out.push_back('\b'); return true;
        case 'f': out.push_back('\f'); return true;
        case 'n': out.push_back('\n'); return true;
        case 'r': out.push_back('\r'); return true;
        case 't': out.push_back('\t'); return true;
        case 'u': return codePoint(out);
        default: return false;
        }
    }

    // \uXXXX of the Basic Multilingual Plane, as UTF-8; a surrogate (half of
    // a pair, or alone) is left to the full parser.
    bool codePoint(std::string& out)
    {
        if (_text.size() - _at < 4) return false;
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = _text[_at++];
            value <<= 4;
            if (c >= '0' && c <= '9') {
                value |= static_cast<unsigned>(c - '0');
            } else if (c >= 'a' && c <= 'f') {
                value |= static_cast<unsigned>(c - 'a' + 10);
            } else if (c >= 'A' && c <= 'F') {
                value |= static_cast<unsigned>(c - 'A' + 10);
            } else {
                return false;
            }
        }
        if (value >= 0xD800 && value <= 0xDFFF) return false;
        if (value < 0x80) {
            out.push_back(static_cast<char>(value));
        } else if (value < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (value >> 6)));
            out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xE0 | (value >> 12)));
            out.push_back(static_cast<char>(0x80 | ((value >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (value & 0x3F)));
        }
        return true;
    }

    std::string_view _text;
    std::size_t _at = 0;
};

} // namespace

const std::string* FlatObject::find(std::string_view key) const
{
    const auto last = std::find_if(fields.rbegin(), fields.rend(), [&](const auto& field) { return field.first == key; });
    return last == fields.rend() ? nullptr : &last->second;
}

std::optional<FlatObject> FlatJson::parse(std::string_view text)
{
    Reader reader(text);
    FlatObject object;
    // Room for a send's fields (op, to, text, key): growing the vector cost a fifth of parsing one.
    object.fields.reserve(4);
    if (!reader.take('{')) return std::nullopt;
    if (!reader.take('}')) {
        do {
            std::pair<std::string, std::string> field;
            if (!reader.string(field.first) || !reader.take(':') || !reader.string(field.second)) return std::nullopt;
            object.fields.push_back(std::move(field));
        } while (reader.take(','));
        if (!reader.take('}')) return std::nullopt;
    }
    if (!reader.atEnd()) return std::nullopt;
    return object;
}

} // namespace peerchat
