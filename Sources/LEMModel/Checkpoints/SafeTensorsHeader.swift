import Foundation

// The safetensors header: its JSON read by Foundation's JSONSerialization and checked against
// the format's schema here; written with JSONSerialization's string escaping in a fixed order.
//
// What Foundation cannot do for us: refuse duplicate keys. JSONSerialization keeps the last value
// of a repeated key without a word, so a file whose header names a tensor twice would load with
// one of the two silently dropped. `KeyCounts` finds repeated keys with one pass over the
// (already valid) JSON text.

/// One tensor entry of a header, as written (dtype not yet validated).
struct HeaderEntry {
    var name: String
    var dtype: String
    var shape: [Int]
    /// Exactly two elements: begin, end.
    var offsets: [Int]
}

/// A header problem; `text` is the complete problem description (the file name is added later).
struct HeaderProblem: Error {
    let text: String
    init(_ text: String) { self.text = text }
}

enum SafeTensorsHeader {
    /// Longest accepted `shape`; real tensors have a handful of dimensions.
    static let maximumRank = 1024

    // MARK: Reading

    /// Parses and checks a header: a UTF-8 JSON object whose `"__metadata__"` (optional, may be
    /// null) maps strings to strings and whose other entries each have exactly `"dtype"` (a
    /// string), `"shape"` (at most `maximumRank` non-negative integers) and `"data_offsets"`
    /// (two non-negative integers); no key may appear twice in any object. Entries come back in
    /// no particular order; checks of sizes and offsets against the data are the caller's.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> (metadata: [String: String], entries: [HeaderEntry]) {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw notJSON("it is not valid UTF-8") }
        // JSON text never holds a raw NUL; JSONSerialization would take NULs as a sign of UTF-16.
        if let position = bytes.firstIndex(of: 0) { throw notJSON("a NUL byte at byte \(position)") }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: Data(buffer: bytes))
        } catch {
            throw notJSON(foundationDetail(error))
        }
        guard let object = root as? [String: Any] else {
            throw notJSON(root is [Any] ? "it is a list, not an object" : "it is not an object")
        }
        try KeyCounts(bytes).refuseDuplicates(in: object)

        var metadata: [String: String] = [:]
        var entries: [HeaderEntry] = []
        entries.reserveCapacity(object.count)
        for (key, value) in object {
            if key == "__metadata__" {
                metadata = try parseMetadata(value)
            } else {
                entries.append(try parseEntry(name: key, value))
            }
        }
        return (metadata, entries)
    }

    private static func parseMetadata(_ value: Any) throws -> [String: String] {
        if value is NSNull { return [:] }
        guard let object = value as? [String: Any] else {
            throw HeaderProblem("metadata must map strings to strings, but \"__metadata__\" is not an object")
        }
        var metadata: [String: String] = [:]
        for key in object.keys.sorted(by: utf8Precedes) {
            guard let text = object[key] as? String else {
                throw HeaderProblem("metadata must map strings to strings, but the value of \(quoted(key)) is not a string")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: Any) throws -> HeaderEntry {
        let quotedName = quoted(name)
        guard let object = value as? [String: Any] else {
            throw HeaderProblem("not a safetensors file: the header entry for tensor \(quotedName) is not an object")
        }
        if let unexpected = object.keys.sorted(by: utf8Precedes).first(where: { !["dtype", "shape", "data_offsets"].contains($0) }) {
            throw HeaderProblem("tensor \(quotedName): unexpected key \(quoted(unexpected)) (expected dtype, shape and data_offsets)")
        }
        guard let dtypeValue = object["dtype"] else { throw HeaderProblem("tensor \(quotedName): missing \"dtype\"") }
        guard let shapeValue = object["shape"] else { throw HeaderProblem("tensor \(quotedName): missing \"shape\"") }
        guard let offsetsValue = object["data_offsets"] else { throw HeaderProblem("tensor \(quotedName): missing \"data_offsets\"") }
        guard let dtype = dtypeValue as? String else { throw HeaderProblem("tensor \(quotedName): dtype is not a string") }
        let shape = try integerList(shapeValue, what: "tensor \(quotedName): shape", maximumCount: maximumRank)
        let offsets = try integerList(offsetsValue, what: "tensor \(quotedName): data_offsets", maximumCount: 2)
        guard offsets.count == 2 else {
            throw HeaderProblem("tensor \(quotedName): data_offsets must be two integers [begin, end], found \(offsets.count)")
        }
        return HeaderEntry(name: name, dtype: dtype, shape: shape, offsets: offsets)
    }

    /// `[n, n, ...]` of non-negative integers that fit in `Int`, at most `maximumCount` of them.
    private static func integerList(_ value: Any, what: String, maximumCount: Int) throws -> [Int] {
        guard let list = value as? [Any] else { throw HeaderProblem("\(what) must be a list of non-negative integers") }
        guard list.count <= maximumCount else { throw HeaderProblem("\(what) has more than \(maximumCount) entries") }
        return try list.map { try nonNegativeInteger($0, what: what) }
    }

    /// A JSON integer ≥ 0 that fits in `Int`. JSONSerialization gives integers as integer-typed
    /// NSNumbers (`Q` when above Int64.max), integers too long for 64 bits as NSDecimalNumber
    /// (type `d`), other numbers as doubles (`d`) and true/false as char-typed (`c`) NSNumbers.
    /// The type code is read as one byte: this runs for every dimension of every tensor.
    private static func nonNegativeInteger(_ value: Any, what: String) throws -> Int {
        func notInteger(_ found: String) -> HeaderProblem {
            HeaderProblem("\(what) must contain only non-negative integers (found \(found))")
        }
        func tooLarge(_ text: String) -> HeaderProblem { HeaderProblem("\(what) entry \(text) is too large") }
        guard let number = value as? NSNumber else {
            switch value {
            case is String: throw notInteger("a string")
            case is [Any]: throw notInteger("a list")
            case is NSNull: throw notInteger("null")
            default: throw notInteger("an object")
            }
        }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "c"):
            throw notInteger(number.boolValue ? "true" : "false")
        case UInt8(ascii: "d"), UInt8(ascii: "f"):
            let text = number.stringValue
            let isLongInteger = number is NSDecimalNumber && text.utf8.allSatisfy { (0x30...0x39).contains($0) }
            throw isLongInteger ? tooLarge(text) : notInteger(text)
        case UInt8(ascii: "Q"):
            let unsigned = number.uint64Value
            guard unsigned <= UInt64(Int.max) else { throw tooLarge(String(unsigned)) }
            return Int(unsigned)
        default:
            let signed = number.int64Value
            guard signed >= 0 else { throw notInteger(String(signed)) }
            return Int(signed)
        }
    }

    private static func notJSON(_ detail: String) -> HeaderProblem {
        HeaderProblem("not a safetensors file: header is not JSON (\(detail))")
    }

    /// Foundation's own words for a JSON syntax error ("Invalid escape sequence around
    /// character 3."), made to fit inside a sentence.
    private static func foundationDetail(_ error: Error) -> String {
        let text = ((error as NSError).userInfo["NSDebugDescription"] as? String) ?? "\(error)"
        var detail = text.hasSuffix(".") ? String(text.dropLast()) : text
        if let first = detail.first { detail = first.lowercased() + detail.dropFirst() }
        return detail
    }

    // MARK: Writing

    /// The header JSON, compact: `"__metadata__"` first with its keys sorted by UTF-8 bytes, then
    /// the tensor entries in the given order, each as `{"data_offsets":[b,e],"dtype":"F32","shape":[…]}`.
    /// Strings are escaped by JSONSerialization (slashes left as they are); no padding.
    static func serialize(metadata: [String: String], entries: [HeaderEntry]) -> [UInt8] {
        var out: [UInt8] = []
        func string(_ text: String) {
            // A string is always a valid JSON fragment, so this cannot fail.
            out += try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        }
        func integers(_ values: [Int]) {
            out += Array(("[" + values.map(String.init).joined(separator: ",") + "]").utf8)
        }
        out += Array("{\"__metadata__\":{".utf8)
        for (index, key) in metadata.keys.sorted(by: utf8Precedes).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            string(key)
            out.append(UInt8(ascii: ":"))
            string(metadata[key]!)
        }
        out.append(UInt8(ascii: "}"))
        for entry in entries {
            out.append(UInt8(ascii: ","))
            string(entry.name)
            out += Array(":{\"data_offsets\":".utf8)
            integers(entry.offsets)
            out += Array(",\"dtype\":".utf8)
            string(entry.dtype)
            out += Array(",\"shape\":".utf8)
            integers(entry.shape)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}

/// The keys of the header object (depth 1) and of the objects directly inside it (depth 2:
/// metadata and tensor entries) as they appear in the text, so that repeated keys, which
/// JSONSerialization merges, can be told. Deeper objects are never valid in a header and fail the
/// schema checks anyway.
private struct KeyCounts {
    /// A key's place in the text: byte range of its string literal (quotes included), and for a
    /// depth-2 key the index of the depth-1 key whose value holds it.
    struct Key { var range: Range<Int>; var parent: Int? }
    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var keys: [Key] = []

    /// Scans JSON text that JSONSerialization has accepted (so strings are terminated and brackets match).
    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        var containers: [(isObject: Bool, expectsKey: Bool)] = []
        var lastTopKey: Int?
        var position = 0
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "{"): containers.append((true, true))
            case UInt8(ascii: "["): containers.append((false, false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = containers.popLast()
            case UInt8(ascii: ","): if containers.last?.isObject == true { containers[containers.count - 1].expectsKey = true }
            case UInt8(ascii: "\""):
                let start = position
                position += 1
                while position < bytes.count && bytes[position] != UInt8(ascii: "\"") {
                    position += bytes[position] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard position < bytes.count else { return }
                if let last = containers.last, last.isObject, last.expectsKey {
                    containers[containers.count - 1].expectsKey = false
                    if containers.count == 1 {
                        lastTopKey = keys.count
                        keys.append(Key(range: start..<(position + 1), parent: nil))
                    } else if containers.count == 2 {
                        keys.append(Key(range: start..<(position + 1), parent: lastTopKey))
                    }
                }
            default: break
            }
            position += 1
        }
    }

    /// Throws if the text has more keys than the parsed objects: then some key was repeated
    /// (possibly in another spelling: escapes, or a canonically equivalent Unicode form).
    func refuseDuplicates(in header: [String: Any]) throws {
        let parsed = header.count + header.values.reduce(0) { $0 + (($1 as? [String: Any])?.count ?? 0) }
        guard keys.count != parsed else { return }
        // Rare: decode the keys one by one to name the repeated one.
        func decoded(_ key: Key) -> String {
            let literal = Data(buffer: UnsafeBufferPointer(rebasing: bytes[key.range]))
            return ((try? JSONSerialization.jsonObject(with: literal, options: .fragmentsAllowed)) as? String) ?? ""
        }
        var seenTop = Set<String>()
        var seenInside: [Int: Set<String>] = [:]
        for key in keys {
            let name = decoded(key)
            if let parent = key.parent {
                guard seenInside[parent, default: []].insert(name).inserted else {
                    let owner = decoded(keys[parent])
                    throw owner == "__metadata__"
                        ? HeaderProblem("not a safetensors file: duplicate metadata key \(quoted(name))")
                        : HeaderProblem("tensor \(quoted(owner)): duplicate key \(quoted(name))")
                }
            } else {
                guard seenTop.insert(name).inserted else {
                    throw name == "__metadata__"
                        ? HeaderProblem("not a safetensors file: \"__metadata__\" appears twice")
                        : HeaderProblem("not a safetensors file: duplicate tensor name \(quoted(name)) in the header")
                }
            }
        }
    }
}

/// Orders strings by their UTF-8 bytes (independent of Unicode normalisation).
func utf8Precedes(_ a: String, _ b: String) -> Bool {
    a.utf8.lexicographicallyPrecedes(b.utf8)
}

/// `text` in double quotes, for messages.
func quoted(_ text: String) -> String {
    "\"" + text + "\""
}
