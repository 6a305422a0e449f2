#include "formula/formula.h"

#include "formula/builder.h"
#include "formula/parser.h"

namespace anvil::formula {

Result<Graph> Compile(std::string_view source, const std::vector<InputDecl>& inputs,
                      const std::vector<AttrDecl>& attrs, const std::vector<std::string>& output_names) {
  ANVIL_ASSIGN_OR_RETURN(Program program, Parse(source));
  return BuildGraph(program, inputs, attrs, output_names);
}

}  // namespace anvil::formula
