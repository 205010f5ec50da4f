use crate::cli::GraphArgs;
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::stack::{self, Names, NotBuilt};

pub fn run(args: GraphArgs, printer: &Printer) -> Result<(), Error> {
    let graph = stack::graph(&Names::new(&args.stack_name), &NotBuilt).map_err(UsageError::from)?;
    printer.data(&graph.to_dot(&args.stack_name))?;
    Ok(())
}
