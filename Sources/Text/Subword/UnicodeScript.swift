import Foundation

/// A coarse Unicode script classifier for the trainer's "one script per piece" rule.
///
/// sentencepiece uses the full Unicode Scripts table; Foundation does not expose it, so this
/// maps the main alphabets by code-point range and any other letter by its 128-code-point
/// block. Digits, punctuation and symbols are `common` (so they never join letters),
/// non-spacing marks are `inherited` (they take the previous character's script), and
/// Hiragana/Katakana count as Han, as in sentencepiece.
enum UnicodeScript: Hashable {
    case common, inherited, latin, greek, cyrillic, armenian, hebrew, arabic, devanagari,
         bengali, thai, hangul, han, georgian, ethiopic
    case block(UInt32)

    init(_ c: UInt32) {
        guard let scalar = Unicode.Scalar(c) else { self = .common; return }
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark:
            self = .inherited
            return
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .spacingMark, .letterNumber:
            break
        default:
            // Digits, other numbers, punctuation, symbols, separators, controls.
            self = .common
            return
        }
        switch c {
        case 0x0041...0x024F, 0x0250...0x02AF, 0x1D00...0x1DBF, 0x1E00...0x1EFF, 0x2C60...0x2C7F,
             0xA720...0xA7FF, 0xAB30...0xAB6F, 0xFB00...0xFB06, 0xFF21...0xFF5A:
            self = .latin
        case 0x0370...0x03FF, 0x1F00...0x1FFF: self = .greek
        case 0x0400...0x052F, 0x1C80...0x1C8F, 0x2DE0...0x2DFF, 0xA640...0xA69F: self = .cyrillic
        case 0x0530...0x058F, 0xFB13...0xFB17: self = .armenian
        case 0x0590...0x05FF, 0xFB1D...0xFB4F: self = .hebrew
        case 0x0600...0x06FF, 0x0750...0x077F, 0x08A0...0x08FF, 0xFB50...0xFDFF, 0xFE70...0xFEFF:
            self = .arabic
        case 0x0900...0x097F, 0xA8E0...0xA8FF: self = .devanagari
        case 0x0980...0x09FF: self = .bengali
        case 0x0E00...0x0E7F: self = .thai
        case 0x10A0...0x10FF, 0x2D00...0x2D2F: self = .georgian
        case 0x1200...0x139F, 0x2D80...0x2DDF: self = .ethiopic
        case 0x1100...0x11FF, 0x3130...0x318F, 0xA960...0xA97F, 0xAC00...0xD7FF, 0xFFA0...0xFFDC:
            self = .hangul
        case 0x2E80...0x2FDF, 0x3005...0x3007, 0x3021...0x3029, 0x3038...0x303B, 0x3040...0x30FF,
             0x31F0...0x31FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xF900...0xFAFF, 0xFF66...0xFF9F,
             0x20000...0x3FFFF:
            self = .han
        default:
            self = .block(c >> 7)
        }
    }
}
