import Foundation
import SwiftProtobuf

/// A dimension of a graph input or output: fixed, or named and dynamic ("batch", "time").
public enum ONNXDimension: Sendable, Equatable {
    case fixed(Int)
    case named(String)
}

/// Builds one ONNX graph (the main graph or a `Scan` body) node by node.
///
/// Every value gets a fresh name (`<hint>_<n>`, with the builder's prefix in a subgraph), so the
/// callers never clash; weights are added once as initializers of the main graph, and a subgraph
/// reads them by name from the outer scope (ONNX allows a body to use any value of the graphs
/// around it).
struct GraphBuilder {
    private(set) var graph = Onnx_GraphProto()
    private var counter = 0
    private let prefix: String

    init(name: String, prefix: String = "") {
        graph.name = name
        self.prefix = prefix
    }

    mutating func fresh(_ hint: String) -> String {
        counter += 1
        return "\(prefix)\(hint)_\(counter)"
    }

    // MARK: - Values

    /// Declares a graph input.
    mutating func input(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [ONNXDimension]?, doc: String = "") {
        graph.input.append(Self.valueInfo(name, type, dims, doc: doc))
    }

    /// Declares a graph output.
    mutating func output(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [ONNXDimension]?, doc: String = "") {
        graph.output.append(Self.valueInfo(name, type, dims, doc: doc))
    }

    static func valueInfo(_ name: String, _ type: Onnx_TensorProto.DataType, _ dims: [ONNXDimension]?, doc: String = "") -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = name
        if !doc.isEmpty { info.docString = doc }
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(type.rawValue)
        if let dims {
            var shape = Onnx_TensorShapeProto()
            shape.dim = dims.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch d {
                case .fixed(let n): dim.dimValue = Int64(n)
                case .named(let s): dim.dimParam = s
                }
                return dim
            }
            tensor.shape = shape
        }
        var typeProto = Onnx_TypeProto()
        typeProto.tensorType = tensor
        info.type = typeProto
        return info
    }

    /// A float initializer under `name` (row-major `values` of `shape`).
    mutating func initializer(_ name: String, shape: [Int], floats values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "GraphBuilder: \(name): \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }   // little-endian on every platform we build for
        graph.initializer.append(t)
    }

    /// An int64 initializer (shapes, axes, indices); `shape` [] makes a scalar.
    mutating func initializer(_ name: String, shape: [Int], int64s values: [Int64]) {
        precondition(shape.reduce(1, *) == values.count, "GraphBuilder: \(name): \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
        t.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
        graph.initializer.append(t)
    }

    /// A fresh int64 constant (1-D, or a scalar with `scalar`).
    mutating func int64s(_ hint: String, _ values: [Int64], scalar: Bool = false) -> String {
        let name = fresh(hint)
        initializer(name, shape: scalar ? [] : [values.count], int64s: values)
        return name
    }

    /// A fresh scalar float constant.
    mutating func scalar(_ hint: String, _ value: Float) -> String {
        let name = fresh(hint)
        initializer(name, shape: [], floats: [value])
        return name
    }

    // MARK: - Nodes

    /// Appends a node and returns its outputs' names (fresh unless `outputs` names them).
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], outputs: [String]? = nil, outputCount: Int = 1,
                       attributes: [Onnx_AttributeProto] = []) -> [String] {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = fresh(op)
        n.input = inputs
        n.output = outputs ?? (0..<outputCount).map { _ in fresh(op.lowercased()) }
        n.attribute = attributes
        graph.node.append(n)
        return n.output
    }

    /// A node with one output.
    mutating func op(_ op: String, _ inputs: String..., attributes: [Onnx_AttributeProto] = []) -> String {
        node(op, inputs, attributes: attributes)[0]
    }
}

/// Node attributes.
enum Attribute {
    static func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.i) = (name, .int, Int64(value))
        return a
    }

    static func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.ints) = (name, .ints, values.map(Int64.init))
        return a
    }

    static func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.f) = (name, .float, value)
        return a
    }

    static func string(_ name: String, _ value: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.s) = (name, .string, Data(value.utf8))
        return a
    }

    static func graph(_ name: String, _ value: Onnx_GraphProto) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        (a.name, a.type, a.g) = (name, .graph, value)
        return a
    }
}
