// SPDX-License-Identifier: MIT
// Vectors, matrices, layers and data sets: all become named scalars in the checked model.
#include <catch2/catch.hpp>
#include <chainrule/lang/format.hpp>
#include <chainrule/lang/parser.hpp>
#include <fstream>
#include <string>

#include "lang_test_support.hpp"

using namespace chainrule::lang;
using namespace chainrule::lang::testing;

namespace {

std::vector<std::string> equations_as_text(const checked_model& m) {
  std::vector<std::string> out;
  for (const auto& e : m.equations)
    out.push_back(e.name + " = " + to_source(m.expressions, e.value));
  return out;
}

// A scratch folder for CSV files, removed afterwards.
struct temp_folder {
  std::filesystem::path path;
  temp_folder() {
    path = std::filesystem::temp_directory_path() /
           ("chainrule-lang-test-" + std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path);
  }
  ~temp_folder() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  temp_folder(const temp_folder&) = delete;
  temp_folder& operator=(const temp_folder&) = delete;
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
  }
};

const std::string mazur_scalar_with_layer_names =
    "precision 50\n"
    "display 9 decimals\n"
    "input  i_1 = 0.05, i_2 = 0.10\n"
    "target t_1 = 0.01, t_2 = 0.99\n"
    "const  b1 = 0.35, b2 = 0.60\n"
    "param  W_h_1_1 = 0.15, W_h_1_2 = 0.20, W_h_2_1 = 0.25, W_h_2_2 = 0.30\n"
    "param  W_o_1_1 = 0.40, W_o_1_2 = 0.45, W_o_2_1 = 0.50, W_o_2_2 = 0.55\n"
    "net_h_1 = W_h_1_1*i_1 + W_h_1_2*i_2 + b1\n"
    "net_h_2 = W_h_2_1*i_1 + W_h_2_2*i_2 + b1\n"
    "h_1 = sigmoid(net_h_1)\n"
    "h_2 = sigmoid(net_h_2)\n"
    "net_o_1 = W_o_1_1*h_1 + W_o_1_2*h_2 + b2\n"
    "net_o_2 = W_o_2_1*h_1 + W_o_2_2*h_2 + b2\n"
    "o_1 = sigmoid(net_o_1)\n"
    "o_2 = sigmoid(net_o_2)\n"
    "E_total = sum(1/2*(t_1 - o_1)^2, 1/2*(t_2 - o_2)^2)\n"
    "train minimize E_total using sgd(lr = 0.5) for 1 step\n";

const std::string mazur_vectors =
    "precision 50\n"
    "display 9 decimals\n"
    "input  i[2] = [0.05, 0.10]\n"
    "target t[2] = [0.01, 0.99]\n"
    "const  b1 = 0.35, b2 = 0.60\n"
    "param  W_h[2][2] = [[0.15, 0.20], [0.25, 0.30]]\n"
    "param  W_o[2][2] = [[0.40, 0.45], [0.50, 0.55]]\n"
    "net_h = W_h @ i + b1\n"
    "h = sigmoid(net_h)\n"
    "net_o = W_o @ h + b2\n"
    "o = sigmoid(net_o)\n"
    "E_total = sum(1/2*(t - o)^2)\n"
    "train minimize E_total using sgd(lr = 0.5) for 1 step\n";

}  // namespace

TEST_CASE("vector and matrix declarations become named scalars", "[lang][expand]") {
  const checked_model m = check_text(
      "input x[2] = [0.05, 0.10]\n"
      "param W[2][3] = [[1, 2, 3],\n"
      "                 [4, 5, 6]]\n"
      "param b[2] = 0.35\n"
      "const c = [7, 8, 9]\n"
      "y = sum(W @ c) + sum(x) + sum(b)\n"
      "differentiate y\n");
  std::vector<std::string> names;
  for (const auto& d : m.declarations)
    names.push_back(d.name + "=" + d.value);
  CHECK(names == std::vector<std::string>{"x_1=0.05", "x_2=0.10", "W_1_1=1", "W_1_2=2", "W_1_3=3",
                                          "W_2_1=4", "W_2_2=5", "W_2_3=6", "b_1=0.35", "b_2=0.35",
                                          "c_1=7", "c_2=8", "c_3=9"});
  const auto* w21 = m.find_declaration("W_2_1");
  CHECK(w21->group == "W");
  CHECK(w21->indices == std::vector<std::uint32_t>{2, 1});
  CHECK(w21->location == source_location{"test.chain", 3, 19, 1});  // the literal 4
  CHECK(m.find_declaration("b_2")->location.column == 7);           // the name (a fill value)
  CHECK(equations_as_text(m) ==
        std::vector<std::string>{
            "y = sum(W_1_1*c_1 + W_1_2*c_2 + W_1_3*c_3, W_2_1*c_1 + W_2_2*c_2 + W_2_3*c_3) + "
            "sum(x_1, x_2) + sum(b_1, b_2)"});
}

TEST_CASE("sigmoid(W @ x + b) expands to the hand-written scalar equations", "[lang][expand]") {
  const checked_model vectors = check_text(
      "input x[2] = [0.05, 0.10]\n"
      "param W[2][2] = [[0.15, 0.20], [0.25, 0.30]]\n"
      "param b[2] = [0.35, 0.35]\n"
      "h = sigmoid(W @ x + b)\n"
      "E = h[1] + h[2]\n"
      "differentiate E\n");
  const checked_model scalars = check_text(
      "input x_1 = 0.05, x_2 = 0.10\n"
      "param W_1_1 = 0.15, W_1_2 = 0.20, W_2_1 = 0.25, W_2_2 = 0.30\n"
      "param b_1 = 0.35, b_2 = 0.35\n"
      "h_1 = sigmoid(W_1_1*x_1 + W_1_2*x_2 + b_1)\n"
      "h_2 = sigmoid(W_2_1*x_1 + W_2_2*x_2 + b_2)\n"
      "E = h_1 + h_2\n"
      "differentiate E\n");
  require_same_scalars(vectors, scalars);
  const auto* h2 = vectors.find_equation("h_2");
  CHECK(h2->group == "h");
  CHECK(h2->indices == std::vector<std::uint32_t>{2});
  CHECK(h2->location == source_location{"test.chain", 4, 1, 1});
  // Every node of the expansion points back at the vector equation's text.
  for (const expr_id id : vectors.expressions.subtree(h2->value))
    CHECK(vectors.expressions[id].line == 4);
}

TEST_CASE("layer shorthand expands like vectors and like hand-written scalars", "[lang][expand]") {
  const checked_model layers = load_model(example_path("mazur_layers.chain"));
  const checked_model vectors = check_text(mazur_vectors);
  const checked_model scalars = check_text(mazur_scalar_with_layer_names);
  require_same_scalars(layers, vectors);
  require_same_scalars(layers, scalars);
  CHECK(layers.warnings.empty());
  CHECK(layers.find_declaration("W_o_2_1")->kind == declaration_kind::param);
  CHECK(layers.find_declaration("W_o_2_1")->value == "0.50");
  CHECK(layers.find_declaration("W_o_2_1")->location.line == 13);

  SECTION("linear activation, literal bias, keyword arguments") {
    const checked_model a = check_text(
        "input x[2] = [1, 2]\n"
        "layer y = dense(units = 1, input = x, weights = [[3, 4]], bias = [5])\n"
        "layer z = dense(x, 2, tanh, [[1, 0], [0, 1]], 0.5)\n"
        "E = y[1] + sum(z)\n"
        "differentiate E\n");
    CHECK(equations_as_text(a) ==
          std::vector<std::string>{"y_1 = W_y_1_1*x_1 + W_y_1_2*x_2 + b_y_1",
                                   "net_z_1 = W_z_1_1*x_1 + W_z_1_2*x_2 + b_z",
                                   "net_z_2 = W_z_2_1*x_1 + W_z_2_2*x_2 + b_z",
                                   "z_1 = tanh(net_z_1)", "z_2 = tanh(net_z_2)",
                                   "E = y_1 + sum(z_1, z_2)"});
    CHECK(a.find_declaration("b_z")->value == "0.5");
  }
  SECTION("existing weights by name and a softmax output") {
    const checked_model a = check_text(
        "input x[2] = [1, 2]\nparam V[3][2] = 0.1\n"
        "layer p = dense(x, 3, softmax, weights = V)\n"
        "E = -log(p[2])\ndifferentiate E\n");
    CHECK(equations_as_text(a)[3] == "p_1 = softmax(net_p_1, net_p_2, net_p_3)[1]");
  }
}

TEST_CASE("indexing, element names and vector-valued functions", "[lang][expand]") {
  SECTION("subscripts and element names are interchangeable") {
    const checked_model m = check_text(
        "input x[2] = [1, 2]\nparam W[2][2] = 1\n"
        "y = x[2] + W[1][2] + W_2_1 + sum(W[2]) + x_1\n"
        "differentiate y\n");
    CHECK(equations_as_text(m) ==
          std::vector<std::string>{"y = x_2 + W_1_2 + W_2_1 + sum(W_2_1, W_2_2) + x_1"});
  }
  SECTION("softmax gives one equation per component") {
    const checked_model vector = check_text(
        "input z[3] = [1, 2, 3]\np = softmax(z)\nl = logsumexp(z) + log_softmax(z_1, z_2)[2]\n"
        "E = p[3] + l\ndifferentiate E\n");
    CHECK(equations_as_text(vector) ==
          std::vector<std::string>{
              "p_1 = softmax(z_1, z_2, z_3)[1]", "p_2 = softmax(z_1, z_2, z_3)[2]",
              "p_3 = softmax(z_1, z_2, z_3)[3]",
              "l = logsumexp(z_1, z_2, z_3) + log_softmax(z_1, z_2)[2]", "E = p_3 + l"});
    const checked_model scalar = check_text(
        "input z_1 = 1, z_2 = 2, z_3 = 3\np_1 = softmax(z_1, z_2, z_3)[1]\np_2 = softmax(z_1, z_2, "
        "z_3)[2]\n"
        "p_3 = softmax(z_1, z_2, z_3)[3]\nl = logsumexp(z_1, z_2, z_3) + log_softmax(z_1, z_2)[2]\n"
        "E = p_3 + l\ndifferentiate E\n");
    require_same_scalars(vector, scalar);
  }
  SECTION("broadcasting scalars and elementwise functions") {
    const checked_model m = check_text(
        "input v[2] = [1, -1]\nparam a = 2\n"
        "y = leaky_relu(a*v + 1, alpha = 0.1)^2 - max(v, 0)\n"
        "E = sum(y)\ndifferentiate E\n");
    CHECK(equations_as_text(m)[0] == "y_1 = leaky_relu(a*v_1 + 1, 0.1)^2 - max(v_1, 0)");
    CHECK(equations_as_text(m)[1] == "y_2 = leaky_relu(a*v_2 + 1, 0.1)^2 - max(v_2, 0)");
  }
  SECTION("matrix products of every shape") {
    const checked_model m = check_text(
        "input u[2] = 1\nparam A[2][2] = 1, B[2][3] = 2\n"
        "d = u @ u\nr = u @ B\nM = A @ B\n"
        "E = d + sum(r) + sum(M)\ndifferentiate E\n");
    const auto text = equations_as_text(m);
    CHECK(text[0] == "d = u_1*u_1 + u_2*u_2");
    CHECK(text[1] == "r_1 = u_1*B_1_1 + u_2*B_2_1");
    CHECK(text[4] == "M_1_1 = A_1_1*B_1_1 + A_1_2*B_2_1");
    CHECK(text[9] == "M_2_3 = A_2_1*B_1_3 + A_2_2*B_2_3");
    CHECK(m.find_equation("M_2_3")->indices == std::vector<std::uint32_t>{2, 3});
  }
}

TEST_CASE("shape errors", "[lang][expand]") {
  const std::string decls = "input x[2] = [1, 2], v[3] = 1, s = 1\nparam W[2][2] = 1\n";
  const auto one_error = [&](const std::string& equation) {
    const auto errors = errors_of(decls + equation + "\nE = s\ndifferentiate E\n");
    REQUIRE(errors.size() == 1);
    return errors[0];
  };
  SECTION("elementwise operands") {
    const auto d = one_error("y = x + v");
    CHECK(brief(d) ==
          "3:7: shape mismatch in '+': the left side is a vector of 2 elements, the right side is "
          "a vector of 3 elements");
    CHECK(d.expected == "operands of the same shape, or a scalar with anything");
  }
  SECTION("matrix products") {
    CHECK(brief(one_error("y = W @ v")) ==
          "3:7: cannot multiply a 2x2 matrix @ a vector of 3 elements: the inner dimensions differ "
          "(2 and 3)");
    CHECK(brief(one_error("y = s @ x")) ==
          "3:7: cannot multiply a scalar @ a vector of 2 elements: '@' needs vectors or matrices "
          "(use '*' for scalars)");
  }
  SECTION("indices") {
    const auto d = one_error("y = x[3]");
    CHECK(brief(d) == "3:6: index 3 is out of range: 'x' is a vector of 2 elements");
    CHECK(d.expected == "an index from 1 to 2");
    CHECK(brief(one_error("y = s[1]")) == "3:6: cannot index 's': it is a scalar");
    CHECK(brief(one_error("y = W[1][3]")) ==
          "3:9: index 3 is out of range: 'W_1' is a vector of 2 elements");
    const auto element = one_error("y = x_3");
    CHECK(brief(element) == "3:5: unknown name 'x_3'");
    CHECK(element.notes.at(0).message == "'x' is a vector of 2 elements");
  }
  SECTION("function arguments") {
    CHECK(brief(one_error("y = max(x, v)")) ==
          "3:5: shape mismatch in the arguments of max: a vector of 2 elements and a vector of 3 "
          "elements");
  }
  SECTION("declared shapes") {
    const auto errors = errors_of(
        "param W[2][2] = [[1, 2, 3], [4, 5, 6]]\nparam T[2][2][2] = 0\ny = 1\ndifferentiate y\n");
    CHECK(briefs(errors) ==
          std::vector<std::string>{
              "1:17: the value of 'W' is a 2x3 matrix but its declaration says a 2x2 matrix",
              "2:15: too many dimensions"});
  }
  SECTION("an error does not cascade into the equations that use it") {
    const auto errors = errors_of(decls + "y = x + v\nz = 2*y\nE = sum(z)\ndifferentiate E\n");
    CHECK(errors.size() == 1);
  }
}

TEST_CASE("layer errors", "[lang][expand]") {
  const std::string decls = "input x[2] = [1, 2]\n";
  const auto errors_for = [&](const std::string& layer) {
    return errors_of(decls + layer + "\nE = 1\ndifferentiate E\n");
  };
  CHECK(briefs(errors_for("layer h = dens(x, 2, sigmoid, weights = [[1, 2], [3, 4]])")) ==
        std::vector<std::string>{"2:11: unknown layer kind 'dens'"});
  CHECK(errors_for("layer h = dens(x, 2)").at(0).notes.at(0).message == "did you mean 'dense'?");
  CHECK(briefs(errors_for("layer h = dense(x, 2, sigmoid)")) ==
        std::vector<std::string>{
            "2:11: dense needs its weights: explicit (weights = [[...], ...], one row per unit) or "
            "drawn (init = xavier, seed = N)"});
  CHECK(briefs(errors_for("layer h = dense(x, 2, max, weights = [[1, 2], [3, 4]])")) ==
        std::vector<std::string>{"2:23: 'max' cannot be an activation"});
  CHECK(briefs(errors_for("layer h = dense(x, 3, relu, weights = [[1, 2], [3, 4]])")) ==
        std::vector<std::string>{"2:39: the weights are a 2x2 matrix but the layer needs a matrix "
                                 "with 3 rows (one per unit)"});
  CHECK(briefs(errors_for(
            "layer h = dense(x, 2, relu, weights = [[1, 2], [3, 4]], bias = [1, 2, 3])")) ==
        std::vector<std::string>{
            "2:64: the bias is a vector of 3 elements but the layer has 2 units"});
  CHECK(briefs(errors_for("layer h = dense(x, 2, relu, weights = [[1, 2, 3], [4, 5, 6]])")) ==
        std::vector<std::string>{"2:7: cannot multiply a 2x3 matrix @ a vector of 2 elements: the "
                                 "inner dimensions differ (3 and 2)"});
  CHECK(briefs(errors_for("layer h = dense(x, 2, relu, wieghts = [[1, 2], [3, 4]])")) ==
        std::vector<std::string>{"2:29: dense has no argument 'wieghts'"});
  CHECK(briefs(errors_for("layer x = dense(x, 2, relu, weights = [[1, 2], [3, 4]])")) ==
        std::vector<std::string>{"2:7: cannot assign to input 'x'"});
}

TEST_CASE("inline data sets", "[lang][data]") {
  const std::string decls =
      "input x[2] = 0, z = 0\ntarget y = 0\nparam w = 1\nE = (w*x[1] + x[2] + z - y)^2\n";
  SECTION("vector columns expand to their elements") {
    const checked_model m = check_text(decls +
                                       "data d(x, y) = [[1, 2, 3],\n"
                                       "                [4, 5, 6]]\n"
                                       "train minimize E using sgd for 2 epochs on d\n");
    REQUIRE(m.data_sets.size() == 1);
    const data_set& d = m.data_sets[0];
    CHECK(d.columns == std::vector<std::string>{"x_1", "x_2", "y"});
    CHECK(d.rows() == 2);
    CHECK(d.value(1, 0) == "4");
    CHECK(d.value(1, 2) == "6");
    CHECK(d.row_locations[1].line == 6);
    CHECK(m.train->data_set == "d");
    CHECK(m.train->unit == step_unit::epochs);
    CHECK(m.warnings.empty());
  }
  SECTION("errors") {
    const auto errors = errors_of(decls +
                                  "data a(x_1, w) = [[1, 2]]\n"
                                  "data b(x, y) = [[1, 2],\n                 [4, 5]]\n"
                                  "data c = [[1]]\n"
                                  "data b(y) = [[1]]\n"
                                  "train minimize E using sgd for 2 epochs on bb\n");
    CHECK(briefs(errors) ==
          std::vector<std::string>{
              "5:13: data column 'w' is a param",
              "6:17: the rows have 2 values but the data set has 3 columns (x_1, x_2, y)",
              "8:6: inline data needs a column list", "9:6: data set 'b' is defined twice",
              "10:44: unknown data set 'bb'"});
  }
  SECTION("unused data set") {
    const checked_model m = check_text(decls + "data d(z) = [[1]]\ndifferentiate E\n");
    CHECK(briefs(m.warnings) == std::vector<std::string>{"5:6: data set 'd' is never used"});
  }
}

TEST_CASE("data sets from CSV files", "[lang][data]") {
  const temp_folder folder;
  const std::string model_file = (folder.path / "model.chain").string();
  const std::string decls = "input a = 0, b = 0\ntarget y = 0\nparam w = 1\nE = (w*a + b - y)^2\n";
  SECTION("with a header, relative to the .chain file") {
    folder.write("xor.csv", "# truth table\na, b, y\n0, 0, 0\r\n0, 1, 1\n1, 0, 1\n\n+1, 1, -0\n");
    const checked_model m = check_text(
        decls + "data xor = from \"xor.csv\"\ntrain minimize E using sgd for 1 epoch on xor\n",
        model_file);
    const data_set& d = m.data_sets.at(0);
    CHECK(d.columns == std::vector<std::string>{"a", "b", "y"});
    CHECK(d.rows() == 4);
    CHECK(d.value(3, 0) == "1");  // '+' dropped
    CHECK(d.value(3, 2) == "-0");
    CHECK(d.file == (folder.path / "xor.csv").lexically_normal().string());
    CHECK(d.row_locations[0].line == 3);
  }
  SECTION("without a header, with a column list") {
    folder.write("plain.csv", "1,2,3\n4,5,6\n");
    const checked_model m = check_text(
        decls +
            "data d(b, a, y) = from \"plain.csv\"\ntrain minimize E using sgd for 3 steps on d\n",
        model_file);
    CHECK(m.data_sets.at(0).columns == std::vector<std::string>{"b", "a", "y"});
    CHECK(m.data_sets.at(0).value(1, 1) == "5");
  }
  SECTION("problems inside the file are reported at the file's lines") {
    folder.write("bad.csv", "a,b,y\n1,2,3\n1,x2,3\n1,2\n");
    const auto errors =
        errors_of(decls + "data d = from \"bad.csv\"\ntrain minimize E using sgd for 1 step on d\n",
                  model_file);
    REQUIRE(errors.size() == 2);
    const std::string csv = (folder.path / "bad.csv").string();
    CHECK(errors[0].location == source_location{csv, 3, 3, 2});
    CHECK(errors[0].message == "bad number 'x2': no digits");
    CHECK(errors[0].source_line == "1,x2,3");
    CHECK(errors[1].location.line == 4);
    CHECK(errors[1].message == "this row has 2 values but the first row has 3");
  }
  SECTION("file-level problems") {
    folder.write("noheader.csv", "1,2,3\n");
    folder.write("header.csv", "a,b\n1,2\n");
    folder.write("binary.csv", std::string("a,b\n1,\0\n", 8));
    const auto errors = errors_of(decls +
                                      "data m = from \"missing.csv\"\n"
                                      "data n = from \"noheader.csv\"\n"
                                      "data h(a, y) = from \"header.csv\"\n"
                                      "data k = from \"binary.csv\"\n"
                                      "differentiate E\n",
                                  model_file);
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].message == "data file contains a NUL byte (is it a binary file?)");
    CHECK(brief(errors[1]) ==
          "5:15: cannot open data file '" + (folder.path / "missing.csv").string() + "'");
    CHECK(brief(errors[2]) ==
          "6:15: the data file has no header, so the data set needs a column list");
    CHECK(brief(errors[3]) == "7:21: the CSV header (a, b) does not match the column list (a, y)");
  }
}
