use crate::cli::GraphArgs;
use crate::error::{Error, UsageError};
use crate::printer::Printer;
use crate::stack::{self, Names, NotBuilt, Stack};

pub fn run(args: GraphArgs, printer: &Printer) -> Result<(), Error> {
    let file = crate::config::Stackfile::default_stack();
    let names = Names::new(&args.stack_name);
    let stack = Stack {
        names: &names,
        file: &file,
        aws_account: None,
        region: None,
    };
    let graph = stack::graph(&stack, &NotBuilt).map_err(UsageError::from)?;
    printer.data(&graph.to_dot(&args.stack_name))?;
    Ok(())
}
