// FineTuneOrchestrator in Azure, for `azd up`: a resource group holding a Flex Consumption (FC1) Linux function app
// (dotnet-isolated 10.0) that runs src/FineTuneOrchestrator.Functions, its storage account (task hub, deployment package,
// datasets, staging, run files, model registry) reached with the app's managed identity only (no keys in settings),
// Application Insights on a Log Analytics workspace, the Event Grid system topic of the storage account (the BlobCreated
// subscription to the blob trigger is created after deployment by infra/hooks/postdeploy.sh, once the blobs extension's
// key exists), and, when a provider key is given, a Key Vault holding it.
targetScope = 'subscription'

@description('azd environment name: names the resource group and, with a hash, the resources.')
@minLength(1)
@maxLength(40)
param environmentName string

@description('Region of the resources (one where Flex Consumption is offered).')
param location string

@description('Fine-tuning provider: AzureOpenAI (keeps self-serve fine-tuning), OpenAI, or OpenAICompatible.')
@allowed([ 'AzureOpenAI', 'OpenAI', 'OpenAICompatible' ])
param providerKind string = 'AzureOpenAI'

@description('Provider endpoint: https://<resource>.openai.azure.com for Azure OpenAI, https://api.openai.com/v1 for OpenAI.')
param providerEndpoint string

@description('Provider API key; kept in Key Vault. Leave empty on Azure OpenAI to use the app\'s managed identity (Entra ID).')
@secure()
param providerApiKey string = ''

@description('Azure OpenAI: the account name (its deployments of fine-tuned models are managed through ARM).')
param azureOpenAIAccountName string = ''

@description('Azure OpenAI: the resource group of the account (default: this deployment\'s resource group).')
param azureOpenAIResourceGroup string = ''

@description('Azure OpenAI: the subscription of the account (default: this subscription).')
param azureOpenAISubscriptionId string = subscription().subscriptionId

@description('Object id of whoever runs azd (azd passes AZURE_PRINCIPAL_ID): it gets Storage Blob Data Contributor on the storage account, so datasets can be uploaded with `az storage blob upload --auth-mode login` or the portal while shared keys stay off. Empty: no grant.')
param principalId string = deployer().objectId

@description('What principalId is: a person (User) or a pipeline\'s identity (ServicePrincipal).')
@allowed([ 'User', 'ServicePrincipal' ])
param principalType string = 'User'

@description('Largest number of instances Flex Consumption may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 40

@description('Memory of each instance, in MB.')
@allowed([ 512, 2048, 4096 ])
param instanceMemoryMB int = 2048

var tags = { 'azd-env-name': environmentName }

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module app 'modules/app.bicep' = {
  name: 'finetune-orchestrator'
  scope: rg
  params: {
    environmentName: environmentName
    location: location
    tags: tags
    providerKind: providerKind
    providerEndpoint: providerEndpoint
    providerApiKey: providerApiKey
    // Refused at provisioning: without the account the app cannot deploy models, and would stop at start-up instead.
    azureOpenAIAccountName: providerKind == 'AzureOpenAI' && empty(azureOpenAIAccountName)
      ? fail('providerKind is AzureOpenAI but azureOpenAIAccountName is empty: run `azd env set FTO_AZURE_OPENAI_ACCOUNT <Azure OpenAI account name>` (the app deploys fine-tuned models through its ARM API), or choose another provider with `azd env set FTO_PROVIDER_KIND OpenAI`.')
      : azureOpenAIAccountName
    azureOpenAIResourceGroup: empty(azureOpenAIResourceGroup) ? rg.name : azureOpenAIResourceGroup
    azureOpenAISubscriptionId: azureOpenAISubscriptionId
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
  }
}

// Azure OpenAI: the app's identity fine-tunes through the data plane and deploys the promoted models through ARM.
module openAIAccess 'modules/openai-access.bicep' = if (providerKind == 'AzureOpenAI' && !empty(azureOpenAIAccountName)) {
  name: 'openai-access'
  scope: resourceGroup(azureOpenAISubscriptionId, empty(azureOpenAIResourceGroup) ? rg.name : azureOpenAIResourceGroup)
  params: {
    accountName: azureOpenAIAccountName
    principalId: app.outputs.principalId
  }
}

output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = app.outputs.functionAppName
output AZURE_FUNCTION_APP_URL string = app.outputs.functionAppUrl
output AZURE_STORAGE_ACCOUNT_NAME string = app.outputs.storageAccountName
output AZURE_EVENTGRID_SYSTEM_TOPIC string = app.outputs.systemTopicName
output APPLICATIONINSIGHTS_NAME string = app.outputs.applicationInsightsName
