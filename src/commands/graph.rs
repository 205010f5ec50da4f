use crate::cli::GraphArgs;
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::settings;
use crate::stack::{self, NotBuilt, Stack};

pub fn run(args: GraphArgs, printer: &Printer) -> Result<(), Error> {
    let (names, file) = settings::stack_file(args.config, args.stack_name)?;
    let graph =
        stack::graph(&Stack::offline(&names, &file), &NotBuilt).map_err(UsageError::from)?;
    printer.data(&graph.to_dot(names.stack()))?;
    Ok(())
}
