#include "LineMark.h"

namespace peerchat::chatui {

// Each glyph is one cell wide in every terminal: none has an ambiguous East
// Asian width, which CJK set-ups draw two cells wide.
wchar_t LineMark::glyph(local::LineState state)
{
    switch (state) {
    case local::LineState::Pending: return L'\u22EF';   // ⋯ on its way
    case local::LineState::Stored: return L'\u21E1';    // ⇡ handed to indexd
    case local::LineState::Delivered: return L'\u2713'; // ✓
    case local::LineState::Failed: return L'!';
    case local::LineState::Received:
    case local::LineState::Sent: return L' ';
    }
    return L' ';
}

Style LineMark::style(local::LineState state)
{
    switch (state) {
    case local::LineState::Delivered: return Style::Delivered;
    case local::LineState::Failed: return Style::Failed;
    case local::LineState::Pending:
    case local::LineState::Stored:
    case local::LineState::Received:
    case local::LineState::Sent: return Style::Dim;
    }
    return Style::Dim;
}

wchar_t LineMark::glyph(const local::ChatLine& line) { return line.verified ? glyph(line.state) : kUnverified; }

Style LineMark::style(const local::ChatLine& line) { return line.verified ? style(line.state) : Style::Unverified; }

std::wstring LineMark::legend(bool withUnverified)
{
    std::wstring text;
    for (const auto& [state, meaning] : {std::pair{local::LineState::Pending, L"pending"},
                                         std::pair{local::LineState::Stored, L"stored"},
                                         std::pair{local::LineState::Delivered, L"delivered"},
                                         std::pair{local::LineState::Failed, L"will retry"}}) {
        if (!text.empty()) text += L"  ";
        text += glyph(state);
        text += L' ';
        text += meaning;
    }
    if (withUnverified) text += std::wstring(L"  ") + kUnverified + L" unverified";
    return text;
}

} // namespace peerchat::chatui
